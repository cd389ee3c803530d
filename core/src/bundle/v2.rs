//! The format-2 header: the bundle spec and the trees' parameters in postcard, serde's compact
//! binary format (<https://postcard.jamesmunns.com/wire-format>: varint lengths and integers, f64
//! as 8 little-endian bytes, `Option` as a 0/1 byte, enum variants by index, struct fields in
//! declaration order, no names).
//!
//! The types below are the file format, so they are apart from the API types: those have a JSON
//! shape (`flatten`ed fields, internally tagged enums, omitted empty fields) that a format
//! without field names cannot carry, and they may grow fields, while these change only with a
//! format version. Types without such attributes are reused as they are (`ScoreScale`,
//! `Iterations`, `FeatureSelection`, `FeatureScore`, `ScoreReference`, `UnknownLevel`): a field
//! added to one of them changes format 2 (the committed format-2 fixtures' tests then fail).
//! Conversions destructure every API type, so a new field does not compile until it has a place.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use super::{
    BundleError, BundleSpec, FeatureReference, FeatureSelection, Iterations, JsonText, Metadata,
    ReferenceDistribution, ReferenceStats, ScoreReference, TreeParams,
};
use crate::ensemble::{Arithmetic, Link};
use crate::schema::{
    CategoricalSpec, DerivedFeature, DerivedOp, InputField, InputKind, NumericSpec, SchemaSpec, UnknownLevel,
};
use crate::scorecard::ScoreScale;

#[derive(Serialize, Deserialize)]
struct Header {
    meta: Meta,
    schema: Schema,
    threshold: f64,
    selection: Option<FeatureSelection>,
    reference: Option<Reference>,
    model: Model,
}

#[derive(Serialize, Deserialize)]
struct Meta {
    name: String,
    version: String,
    created: String,
    source: String,
    metrics: BTreeMap<String, f64>,
    /// JSON text (`Metadata::training`).
    training: String,
    score_scale: Option<ScoreScale>,
    iterations: Option<Iterations>,
}

#[derive(Serialize, Deserialize)]
struct Schema {
    id_field: String,
    id_required: bool,
    inputs: Vec<Input>,
    derived: Vec<Derived>,
    model_features: Vec<String>,
    labels: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct Input {
    name: String,
    required: bool,
    nullable: bool,
    description: String,
    kind: Kind,
}

#[derive(Serialize, Deserialize)]
enum Kind {
    Numeric(Numeric),
    Categorical(Categorical),
}

#[derive(Serialize, Deserialize)]
struct Numeric {
    integer: bool,
    valid_min: Option<f64>,
    valid_max: Option<f64>,
    train_min: Option<f64>,
    train_max: Option<f64>,
    default: Option<f64>,
    sentinel: Option<f64>,
    unit: String,
    example: Option<f64>,
}

#[derive(Serialize, Deserialize)]
struct Categorical {
    levels: Vec<String>,
    aliases: BTreeMap<String, String>,
    codes: Vec<String>,
    default: Option<String>,
    unknown: UnknownLevel,
    example: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Derived {
    name: String,
    op: Op,
}

#[derive(Serialize, Deserialize)]
enum Op {
    Ratio { numerator: String, denominator: String },
    Difference { left: String, right: String },
    Product { left: String, right: String },
    SentinelFlag { input: String },
    IsMissing { input: String },
}

#[derive(Serialize, Deserialize)]
struct Reference {
    rows: u64,
    features: Vec<Feature>,
    score: Option<ScoreReference>,
}

#[derive(Serialize, Deserialize)]
struct Feature {
    name: String,
    missing_rate: f64,
    distribution: Distribution,
}

#[derive(Serialize, Deserialize)]
enum Distribution {
    Numeric { quantiles: Vec<f64>, mean: f64, std: f64 },
    Categorical { levels: Vec<String>, proportions: Vec<f64> },
}

#[derive(Serialize, Deserialize)]
struct Model {
    num_features: u64,
    num_trees: u64,
    base_score: f64,
    arithmetic: ArithmeticCode,
    link: LinkCode,
    zero_small_inputs: bool,
}

#[derive(Serialize, Deserialize)]
enum ArithmeticCode {
    F64,
    F32,
}

#[derive(Serialize, Deserialize)]
enum LinkCode {
    Sigmoid { scale: f64 },
    Identity,
}

/// Encodes the header. Errors: [`BundleError::Header`] with postcard's message (not expected:
/// every type here has a postcard encoding).
pub(super) fn write_header(spec: BundleSpec, model: &TreeParams) -> Result<Vec<u8>, BundleError> {
    let BundleSpec { meta, schema, threshold, selection, reference } = spec;
    let header = Header {
        meta: meta.into(),
        schema: schema.into(),
        threshold,
        selection,
        reference: reference.map(Reference::from),
        model: Model {
            num_features: model.num_features as u64,
            num_trees: model.num_trees,
            base_score: model.base_score,
            arithmetic: match model.arithmetic {
                Arithmetic::F64 => ArithmeticCode::F64,
                Arithmetic::F32 => ArithmeticCode::F32,
            },
            link: match model.link {
                Link::Sigmoid { scale } => LinkCode::Sigmoid { scale },
                Link::Identity => LinkCode::Identity,
            },
            zero_small_inputs: model.zero_small_inputs,
        },
    };
    postcard::to_allocvec(&header).map_err(|e| BundleError::Header(format!("{e}")))
}

/// Decodes the header, which must fill `bytes` exactly. Errors: [`BundleError::Header`]
/// (postcard's message: the bytes end early, a variant index or a UTF-8 string is invalid, ...;
/// or bytes left over; or a feature count beyond this machine's `usize`). Every length is checked
/// against the bytes left before anything is read into it, and serde allocates at most 1 MiB
/// ahead of the elements actually read, so a hostile length cannot make it allocate.
pub(super) fn read_header(bytes: &[u8]) -> Result<(BundleSpec, TreeParams), BundleError> {
    let error = |e: postcard::Error| BundleError::Header(format!("{e}"));
    let (header, rest): (Header, &[u8]) = postcard::take_from_bytes(bytes).map_err(error)?;
    if !rest.is_empty() {
        return Err(BundleError::Header(format!("{} unexpected bytes after the header", rest.len())));
    }
    let Header { meta, schema, threshold, selection, reference, model } = header;
    let num_features = usize::try_from(model.num_features).map_err(|_| {
        BundleError::Header(format!("{} features is more than this machine can index", model.num_features))
    })?;
    let params = TreeParams {
        num_features,
        num_trees: model.num_trees,
        base_score: model.base_score,
        arithmetic: match model.arithmetic {
            ArithmeticCode::F64 => Arithmetic::F64,
            ArithmeticCode::F32 => Arithmetic::F32,
        },
        link: match model.link {
            LinkCode::Sigmoid { scale } => Link::Sigmoid { scale },
            LinkCode::Identity => Link::Identity,
        },
        zero_small_inputs: model.zero_small_inputs,
    };
    let spec = BundleSpec {
        meta: meta.into(),
        schema: schema.into(),
        threshold,
        selection,
        reference: reference.map(ReferenceStats::from),
    };
    Ok((spec, params))
}

impl From<Metadata> for Meta {
    fn from(m: Metadata) -> Meta {
        let Metadata { name, version, created, source, metrics, training, score_scale, iterations } = m;
        Meta { name, version, created, source, metrics, training: training.0, score_scale, iterations }
    }
}

impl From<Meta> for Metadata {
    fn from(m: Meta) -> Metadata {
        let Meta { name, version, created, source, metrics, training, score_scale, iterations } = m;
        let training = JsonText::from_text(training);
        Metadata { name, version, created, source, metrics, training, score_scale, iterations }
    }
}

impl From<SchemaSpec> for Schema {
    fn from(s: SchemaSpec) -> Schema {
        let SchemaSpec { id_field, id_required, inputs, derived, model_features, labels } = s;
        Schema {
            id_field,
            id_required,
            inputs: inputs.into_iter().map(Input::from).collect(),
            derived: derived.into_iter().map(Derived::from).collect(),
            model_features,
            labels,
        }
    }
}

impl From<Schema> for SchemaSpec {
    fn from(s: Schema) -> SchemaSpec {
        let Schema { id_field, id_required, inputs, derived, model_features, labels } = s;
        SchemaSpec {
            id_field,
            id_required,
            inputs: inputs.into_iter().map(InputField::from).collect(),
            derived: derived.into_iter().map(DerivedFeature::from).collect(),
            model_features,
            labels,
        }
    }
}

impl From<InputField> for Input {
    fn from(f: InputField) -> Input {
        let InputField { name, required, nullable, description, kind } = f;
        let kind = match kind {
            InputKind::Numeric(n) => {
                let NumericSpec {
                    integer,
                    valid_min,
                    valid_max,
                    train_min,
                    train_max,
                    default,
                    sentinel,
                    unit,
                    example,
                } = n;
                Kind::Numeric(Numeric {
                    integer,
                    valid_min,
                    valid_max,
                    train_min,
                    train_max,
                    default,
                    sentinel,
                    unit,
                    example,
                })
            }
            InputKind::Categorical(c) => {
                let CategoricalSpec { levels, aliases, codes, default, unknown, example } = c;
                Kind::Categorical(Categorical { levels, aliases, codes, default, unknown, example })
            }
        };
        Input { name, required, nullable, description, kind }
    }
}

impl From<Input> for InputField {
    fn from(f: Input) -> InputField {
        let Input { name, required, nullable, description, kind } = f;
        let kind = match kind {
            Kind::Numeric(n) => {
                let Numeric {
                    integer,
                    valid_min,
                    valid_max,
                    train_min,
                    train_max,
                    default,
                    sentinel,
                    unit,
                    example,
                } = n;
                InputKind::Numeric(NumericSpec {
                    integer,
                    valid_min,
                    valid_max,
                    train_min,
                    train_max,
                    default,
                    sentinel,
                    unit,
                    example,
                })
            }
            Kind::Categorical(c) => {
                let Categorical { levels, aliases, codes, default, unknown, example } = c;
                InputKind::Categorical(CategoricalSpec { levels, aliases, codes, default, unknown, example })
            }
        };
        InputField { name, required, nullable, description, kind }
    }
}

impl From<DerivedFeature> for Derived {
    fn from(d: DerivedFeature) -> Derived {
        let op = match d.op {
            DerivedOp::Ratio { numerator, denominator } => Op::Ratio { numerator, denominator },
            DerivedOp::Difference { left, right } => Op::Difference { left, right },
            DerivedOp::Product { left, right } => Op::Product { left, right },
            DerivedOp::SentinelFlag { input } => Op::SentinelFlag { input },
            DerivedOp::IsMissing { input } => Op::IsMissing { input },
        };
        Derived { name: d.name, op }
    }
}

impl From<Derived> for DerivedFeature {
    fn from(d: Derived) -> DerivedFeature {
        let op = match d.op {
            Op::Ratio { numerator, denominator } => DerivedOp::Ratio { numerator, denominator },
            Op::Difference { left, right } => DerivedOp::Difference { left, right },
            Op::Product { left, right } => DerivedOp::Product { left, right },
            Op::SentinelFlag { input } => DerivedOp::SentinelFlag { input },
            Op::IsMissing { input } => DerivedOp::IsMissing { input },
        };
        DerivedFeature { name: d.name, op }
    }
}

impl From<ReferenceStats> for Reference {
    fn from(r: ReferenceStats) -> Reference {
        let ReferenceStats { rows, features, score } = r;
        let features = features
            .into_iter()
            .map(|f| {
                let FeatureReference { name, missing_rate, distribution } = f;
                let distribution = match distribution {
                    ReferenceDistribution::Numeric { quantiles, mean, std } => {
                        Distribution::Numeric { quantiles, mean, std }
                    }
                    ReferenceDistribution::Categorical { levels, proportions } => {
                        Distribution::Categorical { levels, proportions }
                    }
                };
                Feature { name, missing_rate, distribution }
            })
            .collect();
        Reference { rows, features, score }
    }
}

impl From<Reference> for ReferenceStats {
    fn from(r: Reference) -> ReferenceStats {
        let Reference { rows, features, score } = r;
        let features = features
            .into_iter()
            .map(|f| {
                let Feature { name, missing_rate, distribution } = f;
                let distribution = match distribution {
                    Distribution::Numeric { quantiles, mean, std } => {
                        ReferenceDistribution::Numeric { quantiles, mean, std }
                    }
                    Distribution::Categorical { levels, proportions } => {
                        ReferenceDistribution::Categorical { levels, proportions }
                    }
                };
                FeatureReference { name, missing_rate, distribution }
            })
            .collect();
        ReferenceStats { rows, features, score }
    }
}
