//! The model bundle: one versioned file with everything needed to score, explain and monitor.
//!
//! Layout (all integers little-endian), documented for other implementers in docs/BUNDLE_FORMAT.md:
//! ```text
//! 0   8   magic "CSBUNDLE"
//! 8   4   format version (u32): 2 (written and read), 1 (read with the `bundle-v1` feature)
//! 12  32  sha256 of every byte from offset 44 to the end
//! 44  8   length J of the header (u64)
//! 52  J   header: meta, schema, threshold, selection, reference, model parameters;
//!         format 2: postcard (bundle/v2.rs), format 1: JSON (bundle/v1.rs)
//! ..      trees, binary: per tree u32 node count N, u32 bitset word count W,
//!         N nodes of 40 bytes, N+1 leaves (f64 value, f64 cover), W u32 words
//! ```
//! Reading checks the hash, every length against the bytes left (so a hostile length cannot
//! cause a large allocation) and the ensemble's structure (so scoring cannot go out of bounds).
//!
//! Format 2 exists for the npm package: reading a JSON header took serde_json's parser and the
//! JSON readers of every header type, about half of its wasm; the binary header is also read
//! several times faster.

#[cfg(feature = "bundle-v1")]
mod v1;
mod v2;

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ensemble::{Arithmetic, Ensemble, EnsembleError, Link, MissingType, Node, Split, Tree};
use crate::predict::Threshold;
use crate::schema::{Schema, SchemaError, SchemaSpec};
use crate::scorecard::{ScaleError, ScoreScale};

/// The first 8 bytes of every bundle file.
pub const MAGIC: &[u8; 8] = b"CSBUNDLE";
/// The layout version this build writes (bytes 8..12). It reads this one and, with the
/// `bundle-v1` feature (default; off in the npm package), format 1; any other is
/// [`BundleError::UnsupportedVersion`].
pub const FORMAT_VERSION: u32 = 2;
/// The command that rewrites a bundle in the current format (named by the error a build without
/// format-1 support gives for a format-1 file).
pub const CONVERT_COMMAND: &str = "creditscore convert OLD.csb NEW.csb";
const HEADER_LEN: usize = 44;

/// The format version a bundle file declares (bytes 8..12, little-endian), or `None` when `bytes`
/// do not start with [`MAGIC`] and a version; says nothing about whether the rest is valid.
pub fn format_version(bytes: &[u8]) -> Option<u32> {
    let version = bytes.strip_prefix(MAGIC.as_slice())?.first_chunk::<4>()?;
    Some(u32::from_le_bytes(*version))
}
const NODE_BYTES: usize = 40;
const LEAF_BYTES: usize = 16;

/// A checked model bundle: what a `.csb` file holds, with every part known to fit the others
/// (the schema feeds exactly the features the trees read, the trees are well-formed, the
/// threshold is a probability, the scorecard scale is usable).
///
/// There is no unchecked `Bundle`: the fields are private and the only ways to get one are
/// [`Bundle::from_bytes`] (a file) and [`Bundle::new`] (a [`BundleSpec`] and the trees, e.g. from
/// an importer). To change a part, take the bundle apart with [`Bundle::into_parts`], edit the
/// spec and build it again with [`Bundle::new`].
#[derive(Clone, Debug, PartialEq)]
pub struct Bundle {
    meta: Metadata,
    schema: Schema,
    ensemble: Ensemble,
    threshold: Threshold,
    selection: Option<FeatureSelection>,
    reference: Option<ReferenceStats>,
    sha256: String,
}

/// The serialised description of a bundle, everything but the trees: the header of a `.csb`
/// file (beside the trees' parameters; binary in format 2, JSON in format 1) and the spec the training
/// pipeline writes for `creditscore import --spec`. Unchecked: it becomes usable only through
/// [`Bundle::new`], which checks it against the trees.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BundleSpec {
    /// The bundle's metadata (for an import, an empty `source` is filled with the importer's,
    /// and `iterations` is always the importer's).
    pub meta: Metadata,
    /// The input schema; its `model_features` must be the model's feature names in the model's
    /// order (and, for an import, its categorical levels the model's categories in code order).
    pub schema: SchemaSpec,
    /// Decision threshold, a probability of default in [0, 1] (refuse at or above); anything
    /// else is [`BundleError::BadThreshold`].
    pub threshold: f64,
    /// How the required inputs were chosen ([`Bundle::selection`]).
    #[serde(default)]
    pub selection: Option<FeatureSelection>,
    /// Training-data statistics for the drift report ([`Bundle::reference`]).
    #[serde(default)]
    pub reference: Option<ReferenceStats>,
}

/// The `meta` object of the bundle header: identity and provenance of the model.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct Metadata {
    /// Model name, e.g. "credit_scoring_model" (`GET /health` reports it as `model.name`).
    pub name: String,
    /// Model version string (reported as `model_version` by the API and in prediction logs).
    pub version: String,
    /// RFC 3339 creation time, supplied by the tool that builds the bundle (the core has no clock).
    pub created: String,
    /// Model family and library version it was imported from, e.g. "lightgbm 4.7.0".
    pub source: String,
    /// Training metrics (AUC, business score, ...).
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
    /// Free-form provenance (data set, synthetic or real, training parameters): any JSON value,
    /// kept as text (a JSON object in a spec file).
    #[serde(default)]
    pub training: JsonText,
    /// Scorecard scale of the `score` points; absent (older bundles) = the default scale
    /// (600 points at 50:1, 20 points to double the odds). See [`Bundle::score_scale`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_scale: Option<ScoreScale>,
    /// Which boosting iterations of the imported file the bundle scores with (early stopping);
    /// absent in bundles made before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iterations: Option<Iterations>,
}

/// A free-form JSON value kept as its compact text (serde_json's serialisation): metadata the
/// core never interprets, so reading a bundle does not need a JSON parser (the npm package has
/// none; JavaScript parses the text itself). In JSON (spec files, format 1 headers) it is the
/// value itself, not a string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonText(String);

impl JsonText {
    /// The JSON text, e.g. `{"data":"synthetic"}`; `null` when there is none.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text parsed. Errors: serde_json's, when the text is not JSON (only possible for a
    /// format-2 file written by another tool: the reader keeps the text as stored).
    pub fn to_value(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(&self.0)
    }

    /// Wraps text read from a format-2 header as it is.
    fn from_text(text: String) -> JsonText {
        JsonText(text)
    }
}

impl Default for JsonText {
    /// JSON `null`.
    fn default() -> Self {
        JsonText("null".into())
    }
}

impl From<serde_json::Value> for JsonText {
    fn from(value: serde_json::Value) -> Self {
        // Display of a Value is its compact JSON text, and cannot fail.
        JsonText(alloc::string::ToString::to_string(&value))
    }
}

impl Serialize for JsonText {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_value().map_err(serde::ser::Error::custom)?.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for JsonText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde_json::Value::deserialize(deserializer).map(JsonText::from)
    }
}

/// The boosting iterations an imported model keeps. A model trained with early stopping records
/// its best iteration; the scikit-learn APIs predict with the iterations up to it, the plain
/// boosters (XGBoost `Booster.predict`) with all of them.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Iterations {
    /// Iterations scored (trees = iterations x trees per iteration).
    pub used: u64,
    /// Iterations in the model file.
    pub in_file: u64,
    /// The best iteration recorded in the file (0-based), if any.
    #[serde(default)]
    pub best_iteration: Option<u64>,
    /// Why `used` was chosen: "all" (no best iteration, or `--all-trees`) or "best_iteration".
    pub rule: String,
}

/// Result of the correlation-based selection of required inputs (written by
/// train/creditscore_train/selection.py).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureSelection {
    /// Selection method; "correlation" (|Pearson correlation| with the target) is the only one.
    pub method: String,
    /// At most this many numeric inputs are selected.
    pub top_n: u32,
    /// Smallest score a numeric input needs to be selected.
    pub min_corr: f64,
    /// Score of each candidate feature (e.g. |correlation with the target|), best first.
    pub scores: Vec<FeatureScore>,
    /// Input names selected as required, in selection order.
    pub selected: Vec<String>,
}

/// One candidate of a [`FeatureSelection`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureScore {
    /// Input name.
    pub feature: String,
    /// Its selection score: |Pearson correlation| with the target, in [0, 1].
    pub score: f64,
}

/// Training-data statistics the drift report compares logs against. Written by
/// train/creditscore_train/reference.py from the raw training inputs as clients send them
/// (sentinels such as DAYS_EMPLOYED = 365243 count as missing).
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct ReferenceStats {
    /// Training rows the statistics were computed on.
    pub rows: u64,
    /// One entry per model input with at least one non-missing value.
    pub features: Vec<FeatureReference>,
    /// The score's reference distribution; absent in bundles made without one.
    #[serde(default)]
    pub score: Option<ScoreReference>,
}

/// Reference statistics of one input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureReference {
    /// Input name, as in the schema.
    pub name: String,
    /// Share of training rows where the input is missing, in [0, 1].
    pub missing_rate: f64,
    /// Distribution of the non-missing values (JSON: `type` plus the variant's fields, inline).
    #[serde(flatten)]
    pub distribution: ReferenceDistribution,
}

/// Distribution of an input's non-missing training values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ReferenceDistribution {
    /// A numeric input, in its own units (e.g. days as negative integers relative to the
    /// application, amounts in the loan currency).
    Numeric {
        /// `quantiles[k]` is the k/(len-1) quantile of the non-missing values (101 points:
        /// percentiles; numpy 2.4 `np.quantile`, linear interpolation), ascending.
        quantiles: Vec<f64>,
        /// Mean of the non-missing values.
        mean: f64,
        /// Population standard deviation (ddof = 0, numpy's default) of the non-missing values.
        std: f64,
    },
    /// A categorical input.
    Categorical {
        /// The schema's levels, in schema order.
        levels: Vec<String>,
        /// Share of each level among non-missing values, in level order; sums to 1 up to
        /// rounding (0 everywhere when every value was missing).
        proportions: Vec<f64>,
    },
}

/// Reference distribution of the model's output on the training data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreReference {
    /// Percentiles (101 points, numpy `np.quantile`) of the predicted probability of default on
    /// reference data, each in [0, 1].
    pub quantiles: Vec<f64>,
    /// Share of reference rows refused at the bundle threshold (probability >= threshold), in
    /// [0, 1].
    pub refusal_rate: f64,
}

/// Why bytes are not a usable bundle ([`Bundle::from_bytes`]), or why a bundle's parts do not
/// fit together ([`Bundle::new`]). `Display` gives a one-line message.
#[derive(Debug, PartialEq)]
#[non_exhaustive]
pub enum BundleError {
    /// Shorter than the 44-byte fixed header, or the first 8 bytes are not [`MAGIC`].
    NotABundle,
    /// The format version in bytes 8..12 (the value read) is not one this build reads: 2, or 1
    /// with the `bundle-v1` feature.
    UnsupportedVersion(u32),
    /// A length field points past the end of the file.
    Truncated {
        /// Bytes the next part needs.
        needed: u64,
        /// Bytes left in the file.
        available: u64,
    },
    /// The sha256 in bytes 12..44 does not match the content (a corrupt or edited file).
    ChecksumMismatch,
    /// The header does not parse or does not serialise (postcard's or serde_json's message).
    Header(String),
    /// The schema is not valid (see [`SchemaError`]).
    Schema(SchemaError),
    /// The trees are not well-formed (see [`EnsembleError`]).
    Ensemble(EnsembleError),
    /// The schema feeds a different number of features than the trees read.
    FeatureCountMismatch {
        /// Features the schema produces.
        schema: usize,
        /// Features the trees index ([`Ensemble::num_features`]).
        model: usize,
    },
    /// The decision threshold (the value) is not a probability in [0, 1].
    BadThreshold(f64),
    /// The scorecard scale in the metadata is unusable.
    BadScoreScale(ScaleError),
    /// A node's split-kind byte is not 0 (`<=`), 1 (XGBoost f32 `<`) or 2 (categorical), or
    /// its missing-type byte is out of range for the kind.
    BadNodeKind {
        /// Tree index.
        tree: usize,
        /// Node index in the tree.
        node: usize,
        /// The kind byte read.
        kind: u8,
    },
    /// Bytes (the count) follow the last tree.
    TrailingBytes(u64),
}

impl core::fmt::Display for BundleError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NotABundle => write!(f, "not a creditscore bundle (bad magic bytes)"),
            Self::UnsupportedVersion(1) if cfg!(not(feature = "bundle-v1")) => write!(
                f,
                "bundle format version 1 is not read by this build (it reads {FORMAT_VERSION}); \
                 rewrite the bundle with `{CONVERT_COMMAND}`"
            ),
            Self::UnsupportedVersion(v) => {
                let read = if cfg!(feature = "bundle-v1") { "1 and 2" } else { "2" };
                write!(f, "bundle format version {v} is not supported (this build reads {read})")
            }
            Self::Truncated { needed, available } => {
                write!(f, "bundle is truncated: needs {needed} more bytes, {available} left")
            }
            Self::ChecksumMismatch => {
                write!(f, "bundle content does not match its sha256 (corrupt file)")
            }
            Self::Header(e) => write!(f, "bundle header is invalid: {e}"),
            Self::Schema(e) => write!(f, "bundle {e}"),
            Self::Ensemble(e) => write!(f, "bundle model is invalid: {e}"),
            Self::FeatureCountMismatch { schema, model } => {
                write!(f, "bundle schema gives {schema} features but the model reads {model}")
            }
            Self::BadThreshold(t) => write!(f, "bundle threshold {t} is not in [0, 1]"),
            Self::BadScoreScale(e) => write!(f, "bundle {e}"),
            Self::BadNodeKind { tree, node, kind } => {
                write!(f, "tree {tree} node {node}: unknown split kind {kind}")
            }
            Self::TrailingBytes(n) => {
                write!(f, "bundle has {n} unexpected bytes after the last tree")
            }
        }
    }
}

impl core::error::Error for BundleError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Schema(e) => Some(e),
            Self::Ensemble(e) => Some(e),
            _ => None,
        }
    }
}

/// The trees' parameters (the header's `model` part), as either header format gives them.
struct TreeParams {
    num_features: usize,
    num_trees: u64,
    base_score: f64,
    arithmetic: Arithmetic,
    link: Link,
    zero_small_inputs: bool,
}

impl Bundle {
    /// The checked constructor: builds a bundle from its serialised spec and its trees.
    ///
    /// Errors: [`BundleError::Schema`] (the spec's schema does not resolve),
    /// [`BundleError::BadThreshold`] (not a probability), [`BundleError::Ensemble`] (malformed
    /// trees), [`BundleError::FeatureCountMismatch`] (the schema feeds another number of features
    /// than the trees read), [`BundleError::BadScoreScale`]. The content hash
    /// ([`Bundle::sha256`]) is empty until the bundle is encoded ([`Bundle::to_bytes`]).
    pub fn new(spec: BundleSpec, ensemble: Ensemble) -> Result<Bundle, BundleError> {
        let BundleSpec { meta, schema, threshold, selection, reference } = spec;
        let schema = Schema::try_from(schema).map_err(BundleError::Schema)?;
        let threshold = Threshold::new(threshold).ok_or(BundleError::BadThreshold(threshold))?;
        ensemble.validate().map_err(BundleError::Ensemble)?;
        if schema.num_model_features() != ensemble.num_features {
            return Err(BundleError::FeatureCountMismatch {
                schema: schema.num_model_features(),
                model: ensemble.num_features,
            });
        }
        let bundle =
            Bundle { meta, schema, ensemble, threshold, selection, reference, sha256: String::new() };
        bundle.score_scale().check().map_err(BundleError::BadScoreScale)?;
        Ok(bundle)
    }

    /// The unchecked parts: the spec (a copy of the schema's spec) and the trees. Edit them and
    /// build again with [`Bundle::new`].
    pub fn into_parts(self) -> (BundleSpec, Ensemble) {
        let spec = BundleSpec {
            meta: self.meta,
            schema: self.schema.spec().clone(),
            threshold: self.threshold.get(),
            selection: self.selection,
            reference: self.reference,
        };
        (spec, self.ensemble)
    }

    /// The same bundle with other metadata (e.g. the name and creation time `creditscore import`
    /// fills in). Errors: [`BundleError::BadScoreScale`] when the new `score_scale` is unusable.
    pub fn with_meta(mut self, meta: Metadata) -> Result<Bundle, BundleError> {
        meta.score_scale.unwrap_or_default().check().map_err(BundleError::BadScoreScale)?;
        self.meta = meta;
        Ok(self)
    }

    /// Name, version, provenance and scorecard scale.
    pub fn meta(&self) -> &Metadata {
        &self.meta
    }

    /// Input fields, their validation rules and the feature row they produce (resolved: the
    /// row has [`Ensemble::num_features`] features, in model order).
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The trees (validated); `num_features` equals the schema's model feature count.
    pub fn ensemble(&self) -> &Ensemble {
        &self.ensemble
    }

    /// Business-optimal decision threshold chosen in training, a probability of default in
    /// [0, 1]: probability >= threshold is refused.
    pub fn threshold(&self) -> Threshold {
        self.threshold
    }

    /// How the required inputs were chosen in training; `None` for imported models.
    pub fn selection(&self) -> Option<&FeatureSelection> {
        self.selection.as_ref()
    }

    /// Training-data statistics for the drift report; `None` when the bundle was built without
    /// reference data (the report then needs `--reference`).
    pub fn reference(&self) -> Option<&ReferenceStats> {
        self.reference.as_ref()
    }

    /// Lower-case hex sha256 (64 characters) of the encoded content (file bytes 44 to the end):
    /// set by [`Bundle::from_bytes`] and [`Bundle::to_bytes`], empty for a bundle built by
    /// [`Bundle::new`] and not yet encoded.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The scorecard scale of this bundle's `score` points (the default one when the bundle
    /// stores none).
    pub fn score_scale(&self) -> ScoreScale {
        self.meta.score_scale.unwrap_or_default()
    }

    /// Score points of a probability of default on this bundle's scale
    /// ([`ScoreScale::points`]: finite for any probability in [0, 1]).
    pub fn points(&self, probability: f64) -> f64 {
        self.score_scale().points(probability)
    }

    /// The header as compact JSON in format 1's layout (docs/BUNDLE_FORMAT.md: the spec's keys,
    /// `meta`, `schema`, `threshold`, `selection`, `reference`, beside `model`, the trees'
    /// parameters), whatever the file's format: for tools that read a bundle's header (training
    /// scripts, tests). Errors: [`BundleError::Header`] (metadata that does not serialise).
    #[cfg(feature = "bundle-v1")]
    pub fn header_json(&self) -> Result<String, BundleError> {
        let (spec, params) = self.spec_and_params();
        v1::write_header(&spec, &params)
    }

    /// The spec (copied) and the trees' parameters, as a header holds them.
    fn spec_and_params(&self) -> (BundleSpec, TreeParams) {
        let e = &self.ensemble;
        let spec = BundleSpec {
            meta: self.meta.clone(),
            schema: self.schema.spec().clone(),
            threshold: self.threshold.get(),
            selection: self.selection.clone(),
            reference: self.reference.clone(),
        };
        let params = TreeParams {
            num_features: e.num_features,
            num_trees: e.trees.len() as u64,
            base_score: e.base_score,
            arithmetic: e.arithmetic,
            link: e.link,
            zero_small_inputs: e.zero_small_inputs,
        };
        (spec, params)
    }

    /// Encodes the bundle in format [`FORMAT_VERSION`] and records its content hash
    /// ([`Bundle::sha256`]). Errors: [`BundleError::Header`] when the header does not serialise.
    pub fn to_bytes(&mut self) -> Result<Vec<u8>, BundleError> {
        let (spec, params) = self.spec_and_params();
        let header = v2::write_header(spec, &params)?;
        let (out, digest) = frame(FORMAT_VERSION, &header, &self.ensemble.trees);
        self.sha256 = hex::encode(digest);
        Ok(out)
    }

    /// Decodes and fully checks a bundle (errors: the file's as [`BundleError`] lists them,
    /// then [`Bundle::new`]'s). Never panics, whatever the bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Bundle, BundleError> {
        Self::decode(bytes, true)
    }

    /// [`Bundle::from_bytes`] without hashing the content to compare it with the sha256 the file
    /// declares, for bytes that already passed `from_bytes` and cannot have changed since: a
    /// bundle compiled into a program whose build checked it (the worker's `build.rs`). Every
    /// other check still runs, so it never panics either, and [`Bundle::sha256`] is the declared
    /// one. Why: hashing the 244 KB default model is the largest part of loading it in wasm under
    /// V8's baseline compiler; skipping it took 10-13 ms off the worker's first request (workerd,
    /// 2026-11-30). Anything read at run time (a file, an upload) must use `from_bytes`.
    pub fn from_checked_bytes(bytes: &[u8]) -> Result<Bundle, BundleError> {
        Self::decode(bytes, false)
    }

    fn decode(bytes: &[u8], verify_checksum: bool) -> Result<Bundle, BundleError> {
        let version = match format_version(bytes) {
            Some(version) if bytes.len() >= HEADER_LEN => version,
            _ => return Err(BundleError::NotABundle),
        };
        if version != FORMAT_VERSION && !(cfg!(feature = "bundle-v1") && version == 1) {
            return Err(BundleError::UnsupportedVersion(version));
        }
        let body = &bytes[HEADER_LEN..];
        let declared = &bytes[12..HEADER_LEN];
        if verify_checksum && Sha256::digest(body).as_slice() != declared {
            return Err(BundleError::ChecksumMismatch);
        }
        let mut r = Reader { bytes: body, pos: 0 };
        let header_len = r.u64()?;
        let header = r.take(header_len)?;
        let (spec, model) = match version {
            #[cfg(feature = "bundle-v1")]
            1 => v1::read_header(header)?,
            _ => v2::read_header(header)?,
        };
        let num_trees = model.num_trees;
        // Each tree takes at least 8 + 16 bytes: bound the count before allocating.
        r.need(num_trees.saturating_mul(24))?;
        let mut trees = Vec::with_capacity(num_trees as usize);
        for t in 0..num_trees as usize {
            trees.push(read_tree(&mut r, t)?);
        }
        if r.pos != r.bytes.len() {
            return Err(BundleError::TrailingBytes((r.bytes.len() - r.pos) as u64));
        }
        let ensemble = Ensemble {
            num_features: model.num_features,
            trees,
            base_score: model.base_score,
            arithmetic: model.arithmetic,
            link: model.link,
            zero_small_inputs: model.zero_small_inputs,
        };
        let mut bundle = Bundle::new(spec, ensemble)?;
        bundle.sha256 = hex::encode(declared);
        Ok(bundle)
    }
}

/// The file: magic, `version`, the content hash, the header's length, the header, the trees.
/// Returns the bytes and the content hash.
fn frame(version: u32, header: &[u8], trees: &[Tree]) -> (Vec<u8>, [u8; 32]) {
    let mut body = Vec::with_capacity(8 + header.len() + trees.len() * 64);
    body.extend_from_slice(&(header.len() as u64).to_le_bytes());
    body.extend_from_slice(header);
    for tree in trees {
        write_tree(&mut body, tree);
    }
    let digest: [u8; 32] = Sha256::digest(&body).into();
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&digest);
    out.extend_from_slice(&body);
    (out, digest)
}

fn write_tree(out: &mut Vec<u8>, tree: &Tree) {
    out.extend_from_slice(&(tree.nodes.len() as u32).to_le_bytes());
    out.extend_from_slice(&(tree.cat_words.len() as u32).to_le_bytes());
    for n in &tree.nodes {
        let (kind, missing, default_left, in_set_left, threshold, start, len) = match n.split {
            Split::LessOrEqual { threshold, missing, default_left } => {
                (0u8, missing as u8, default_left, false, threshold, 0, 0)
            }
            Split::LessThanF32 { threshold, default_left } => (1, 0, default_left, false, threshold, 0, 0),
            // The missing-type byte, unused by categorical splits, holds `strict_codes` (bundles
            // written before it existed read as 0: LightGBM / XGBoost codes).
            Split::Categorical { bitset_start, bitset_len, in_set_left, default_left, strict_codes } => {
                (2, u8::from(strict_codes), default_left, in_set_left, 0.0, bitset_start, bitset_len)
            }
        };
        out.extend_from_slice(&n.feature.to_le_bytes());
        out.extend_from_slice(&n.left.to_le_bytes());
        out.extend_from_slice(&n.right.to_le_bytes());
        out.extend_from_slice(&[kind, missing, u8::from(default_left), u8::from(in_set_left)]);
        out.extend_from_slice(&threshold.to_le_bytes());
        out.extend_from_slice(&start.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&n.cover.to_le_bytes());
    }
    for (v, c) in tree.leaf_values.iter().zip(&tree.leaf_covers) {
        out.extend_from_slice(&v.to_le_bytes());
        out.extend_from_slice(&c.to_le_bytes());
    }
    for w in &tree.cat_words {
        out.extend_from_slice(&w.to_le_bytes());
    }
}

fn read_tree(r: &mut Reader<'_>, t: usize) -> Result<Tree, BundleError> {
    let n_nodes = r.u32()? as u64;
    let n_words = r.u32()? as u64;
    r.need(n_nodes * NODE_BYTES as u64 + (n_nodes + 1) * LEAF_BYTES as u64 + n_words * 4)?;
    let mut nodes = Vec::with_capacity(n_nodes as usize);
    for i in 0..n_nodes as usize {
        let feature = r.u32()?;
        let left = r.u32()? as i32;
        let right = r.u32()? as i32;
        let flags = r.take(4)?;
        let (kind, missing, default_left, in_set_left) = (flags[0], flags[1], flags[2] != 0, flags[3] != 0);
        let threshold = r.f64()?;
        let bitset_start = r.u32()?;
        let bitset_len = r.u32()?;
        let cover = r.f64()?;
        let split = match (kind, missing) {
            (0, m @ 0..=2) => Split::LessOrEqual {
                threshold,
                missing: [MissingType::None, MissingType::Zero, MissingType::NaN][m as usize],
                default_left,
            },
            (1, _) => Split::LessThanF32 { threshold, default_left },
            (2, s @ 0..=1) => Split::Categorical {
                bitset_start,
                bitset_len,
                in_set_left,
                default_left,
                strict_codes: s == 1,
            },
            _ => {
                return Err(BundleError::BadNodeKind { tree: t, node: i, kind });
            }
        };
        nodes.push(Node { feature, split, left, right, cover });
    }
    let mut leaf_values = Vec::with_capacity(n_nodes as usize + 1);
    let mut leaf_covers = Vec::with_capacity(n_nodes as usize + 1);
    for _ in 0..=n_nodes {
        leaf_values.push(r.f64()?);
        leaf_covers.push(r.f64()?);
    }
    let mut cat_words = Vec::with_capacity(n_words as usize);
    for _ in 0..n_words {
        cat_words.push(r.u32()?);
    }
    Ok(Tree { nodes, leaf_values, leaf_covers, cat_words })
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn need(&self, n: u64) -> Result<(), BundleError> {
        let available = (self.bytes.len() - self.pos) as u64;
        if n > available { Err(BundleError::Truncated { needed: n, available }) } else { Ok(()) }
    }
    fn take(&mut self, n: u64) -> Result<&'a [u8], BundleError> {
        self.need(n)?;
        let s = &self.bytes[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32, BundleError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64, BundleError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
    fn f64(&mut self) -> Result<f64, BundleError> {
        Ok(f64::from_bits(self.u64()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::sample_bundle;
    use alloc::vec;

    #[test]
    fn round_trip_preserves_everything() {
        let mut b = sample_bundle();
        let bytes = b.to_bytes().unwrap();
        let back = Bundle::from_bytes(&bytes).unwrap();
        assert_eq!(back, b);
        assert_eq!(back.sha256.len(), 64);
    }

    #[test]
    fn checked_bytes_skip_only_the_checksum() {
        let mut b = sample_bundle();
        let bytes = b.to_bytes().unwrap();
        let checked = Bundle::from_checked_bytes(&bytes).unwrap();
        assert_eq!(checked, Bundle::from_bytes(&bytes).unwrap());
        assert_eq!(checked.sha256(), b.sha256());
        // A changed last byte (a leaf cover, no structure) is caught by the checksum only.
        let mut edited = bytes.clone();
        *edited.last_mut().unwrap() ^= 1;
        assert_eq!(Bundle::from_bytes(&edited), Err(BundleError::ChecksumMismatch));
        assert!(Bundle::from_checked_bytes(&edited).is_ok());
        // Every structural check still runs: truncation, trailing bytes, no magic, a bad version.
        for cut in [0, 7, 12, HEADER_LEN, HEADER_LEN + 9, bytes.len() - 1] {
            assert!(Bundle::from_checked_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(Bundle::from_checked_bytes(&longer), Err(BundleError::TrailingBytes(1)));
        let mut version = bytes.clone();
        version[8] = 9;
        assert_eq!(Bundle::from_checked_bytes(&version), Err(BundleError::UnsupportedVersion(9)));
    }

    #[test]
    fn format_version_reads_bytes_8_to_12_after_the_magic() {
        let bytes = sample_bundle().to_bytes().unwrap();
        assert_eq!(format_version(&bytes), Some(FORMAT_VERSION));
        assert_eq!(format_version(b"CSBUNDLE\x01\x00\x00\x00"), Some(1));
        assert_eq!(format_version(b"CSBUNDLE\x01\x00\x00"), None);
        assert_eq!(format_version(b"CSBUNDLX\x02\x00\x00\x00"), None);
        assert_eq!(format_version(b""), None);
        // A version alone is not a bundle.
        assert_eq!(Bundle::from_bytes(b"CSBUNDLE\x02\x00\x00\x00"), Err(BundleError::NotABundle));
    }

    #[test]
    fn score_scale_is_stored_and_defaults_when_absent() {
        let mut b = sample_bundle();
        let bytes = b.to_bytes().unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains("score_scale"), "old layout kept");
        assert_eq!(Bundle::from_bytes(&bytes).unwrap().score_scale(), ScoreScale::default());
        let meta = Metadata {
            score_scale: Some(ScoreScale { base_points: 500.0, base_odds: 20.0, pdo: 40.0 }),
            ..b.meta().clone()
        };
        let mut b = b.with_meta(meta).unwrap();
        let back = Bundle::from_bytes(&b.to_bytes().unwrap()).unwrap();
        assert_eq!(back.score_scale().base_points, 500.0);
        assert!((back.points(1.0 / 21.0) - 500.0).abs() < 1e-9);
        let meta = Metadata {
            score_scale: Some(ScoreScale { base_points: 500.0, base_odds: -1.0, pdo: 40.0 }),
            ..b.meta().clone()
        };
        assert!(matches!(b.clone().with_meta(meta.clone()), Err(BundleError::BadScoreScale(_))));
        let (mut spec, ensemble) = b.into_parts();
        spec.meta = meta;
        assert!(matches!(Bundle::new(spec, ensemble), Err(BundleError::BadScoreScale(_))));
    }

    #[test]
    fn every_truncation_and_bit_flip_is_an_error() {
        let bytes = sample_bundle().to_bytes().unwrap();
        for len in 0..bytes.len() {
            assert!(Bundle::from_bytes(&bytes[..len]).is_err());
        }
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x40;
            assert!(Bundle::from_bytes(&b).is_err(), "flip at {i}");
        }
    }

    /// `b` encoded as format 1 wrote it.
    #[cfg(feature = "bundle-v1")]
    fn format_1_bytes(b: &Bundle) -> Vec<u8> {
        let (spec, params) = b.spec_and_params();
        frame(1, v1::write_header(&spec, &params).unwrap().as_bytes(), &b.ensemble.trees).0
    }

    fn without_hash(mut b: Bundle) -> Bundle {
        b.sha256.clear();
        b
    }

    #[test]
    fn writes_format_2() {
        let bytes = crate::test_support::home_credit_bundle().to_bytes().unwrap();
        assert_eq!(bytes[8..12], 2u32.to_le_bytes());
        let header_len = u64::from_le_bytes(bytes[44..52].try_into().unwrap()) as usize;
        assert!(serde_json::from_slice::<serde_json::Value>(&bytes[52..52 + header_len]).is_err());
    }

    #[cfg(feature = "bundle-v1")]
    #[test]
    fn format_1_files_still_read() {
        for b in [sample_bundle(), crate::test_support::home_credit_bundle()] {
            let v1 = format_1_bytes(&b);
            assert_eq!(v1[8..12], 1u32.to_le_bytes());
            let back = Bundle::from_bytes(&v1).unwrap();
            assert_eq!(back.sha256(), hex::encode(Sha256::digest(&v1[HEADER_LEN..])));
            assert_eq!(without_hash(back), without_hash(b));
        }
    }

    /// The default model as committed before format 2 (written by `make train`, format 1),
    /// converted: the same header, field for field, and the same scores and SHAP values, bit for
    /// bit.
    #[cfg(feature = "bundle-v1")]
    #[test]
    fn committed_format_1_file_converts_with_the_same_header_and_scores() {
        use crate::CompiledModel;
        let v1 = crate::test_support::repo_bytes("tests/fixtures/bundle_v1/default.csb");
        assert_eq!(v1[8..12], 1u32.to_le_bytes());
        let old = Bundle::from_bytes(&v1).unwrap();
        let v2 = old.clone().to_bytes().unwrap();
        let new = Bundle::from_bytes(&v2).unwrap();
        assert_eq!(v2[8..12], 2u32.to_le_bytes());
        assert!(v2.len() < v1.len(), "{} bytes, format 1: {}", v2.len(), v1.len());
        assert_eq!(new.header_json().unwrap(), old.header_json().unwrap());
        assert_eq!(without_hash(new.clone()), without_hash(old.clone()));
        let (old, new) = (CompiledModel::new(old), CompiledModel::new(new));
        let (mut phi_old, mut phi_new) = (Vec::new(), Vec::new());
        for client in crate::test_support::readme_clients() {
            let record = old.bundle().schema().validate_json(&client, "").unwrap();
            let again = new.bundle().schema().validate_json(&client, "").unwrap();
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&record.features), bits(&again.features));
            let (a, b) = (old.score(&record), new.score(&again));
            assert_eq!(a.raw_score.to_bits(), b.raw_score.to_bits());
            assert_eq!(a.probability.to_bits(), b.probability.to_bits());
            old.shap_values(&record, &mut phi_old);
            new.shap_values(&again, &mut phi_new);
            assert_eq!(bits(&phi_old), bits(&phi_new));
        }
    }

    #[cfg(not(feature = "bundle-v1"))]
    #[test]
    fn format_1_without_the_feature_names_the_conversion() {
        let mut bytes = sample_bundle().to_bytes().unwrap();
        bytes[8..12].copy_from_slice(&1u32.to_le_bytes());
        let err = Bundle::from_bytes(&bytes).unwrap_err();
        assert_eq!(err, BundleError::UnsupportedVersion(1));
        assert!(alloc::format!("{err}").contains(CONVERT_COMMAND), "{err}");
    }

    #[test]
    fn unknown_versions_are_refused() {
        let mut bytes = sample_bundle().to_bytes().unwrap();
        for v in [0u32, 3, u32::MAX] {
            bytes[8..12].copy_from_slice(&v.to_le_bytes());
            assert_eq!(Bundle::from_bytes(&bytes), Err(BundleError::UnsupportedVersion(v)));
        }
    }

    /// A correctly hashed format-2 file around `header` and no trees.
    fn with_header(header: &[u8]) -> Vec<u8> {
        frame(FORMAT_VERSION, header, &[]).0
    }

    #[test]
    fn format_2_header_must_fill_its_length() {
        let mut b = sample_bundle();
        let (spec, params) = b.spec_and_params();
        let mut header = v2::write_header(spec, &params).unwrap();
        let trees = core::mem::take(&mut b.ensemble.trees);
        header.push(0);
        let bytes = frame(FORMAT_VERSION, &header, &trees).0;
        assert!(
            matches!(Bundle::from_bytes(&bytes), Err(BundleError::Header(m)) if m.contains("1 unexpected bytes"))
        );
        header.truncate(header.len() - 2);
        let bytes = frame(FORMAT_VERSION, &header, &trees).0;
        assert!(matches!(Bundle::from_bytes(&bytes), Err(BundleError::Header(_))));
    }

    #[test]
    fn hostile_format_2_lengths_do_not_allocate() {
        // The header's first field, the name, claims u64::MAX bytes (varint); then a header whose
        // metrics map and a string within claim 2^32 - 1 entries.
        let mut huge = vec![0xff; 9];
        huge.push(0x01);
        assert!(matches!(Bundle::from_bytes(&with_header(&huge)), Err(BundleError::Header(_))));
        let mut header = vec![0u8; 4]; // four empty strings: name, version, created, source
        header.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
        header.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert!(matches!(Bundle::from_bytes(&with_header(&header)), Err(BundleError::Header(_))));
    }

    #[test]
    fn hostile_lengths_do_not_allocate() {
        // A correctly hashed body that claims a huge JSON header.
        let mut body = vec![];
        body.extend_from_slice(&u64::MAX.to_le_bytes());
        let mut bytes = vec![];
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        bytes.extend_from_slice(&Sha256::digest(&body));
        bytes.extend_from_slice(&body);
        assert!(matches!(Bundle::from_bytes(&bytes), Err(BundleError::Truncated { .. })));
    }
}
