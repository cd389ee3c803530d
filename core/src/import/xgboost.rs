//! XGBoost JSON models (`Booster.save_model("m.json")`, 3.x), objective `binary:logistic`.
//!
//! XGBoost scores in f32: the input is rounded to f32 and compared with `<` (left when smaller),
//! NaN takes `default_left`, a category in the node's set goes right, and the margin is the f32
//! base margin plus each leaf value, rounded to f32 after every addition. `base_score` is a
//! probability: the base margin is `-logf(1 / base_score - 1)` in f32.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde::Deserialize;

use super::{ImportError, ImportOptions, ImportedModel};
use crate::bundle::Iterations;
use crate::ensemble::{Arithmetic, Ensemble, Link, Node, Split, Tree};

/// XGBoost's largest category code (categories travel as f32, exact up to 2^24).
const MAX_CATEGORY: u64 = 1 << 24;

/// The kinds of file `Booster.save_model` has written over XGBoost's versions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    /// JSON text (`save_model("m.json")`, 1.0+).
    Json,
    /// Universal Binary JSON (`save_model("m.ubj")`, 1.6+; the default for other names since 2.1).
    Ubjson,
    /// The legacy binary format of 0.x-1.x (`.model` / `.bin`): a C struct of learner parameters
    /// (136 bytes), then the objective name as a u64 length and bytes. XGBoost 3.x no longer
    /// loads it either.
    LegacyBinary,
    /// None of the above (not an XGBoost model file).
    Unknown,
}

/// Tells the format of a model file from its first bytes.
pub fn detect(bytes: &[u8]) -> FileFormat {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    let rest = &bytes[start..];
    if rest.first() == Some(&b'{') {
        let second = rest[1..].iter().find(|b| !b.is_ascii_whitespace());
        return match second {
            Some(b'"') | Some(b'}') if core::str::from_utf8(bytes).is_ok() => FileFormat::Json,
            // A UBJSON object starts with a key length (an integer marker), `#`/`$` (optimized),
            // a no-op or its end.
            Some(b'i' | b'U' | b'I' | b'l' | b'L' | b'N' | b'#' | b'$' | b'}') => FileFormat::Ubjson,
            _ => FileFormat::Unknown,
        };
    }
    let body = bytes.strip_prefix(b"binf").unwrap_or(bytes);
    if let Some(len) = body.get(136..144) {
        let n = u64::from_le_bytes(len.try_into().unwrap_or([0; 8])) as usize;
        let name = body.get(144..144 + n.min(256));
        if (1..=256).contains(&n)
            && name.is_some_and(|name| name.iter().all(|b| b.is_ascii_graphic()) && name.contains(&b':'))
        {
            return FileFormat::LegacyBinary;
        }
    }
    FileFormat::Unknown
}

/// Parses the JSON text of an XGBoost model, keeping the trees the scikit-learn API predicts with.
pub fn parse(json: &str) -> Result<ImportedModel, ImportError> {
    parse_bytes(json.as_bytes(), &ImportOptions::default())
}

/// Parses an XGBoost model file: JSON (non-finite literals `NaN`, `Infinity` of 1.x-2.0 files
/// accepted) or UBJSON. Legacy binary files and anything else are refused by name.
pub fn parse_bytes(bytes: &[u8], options: &ImportOptions) -> Result<ImportedModel, ImportError> {
    let (model, format): (ModelJson, &str) = match detect(bytes) {
        FileFormat::Json => {
            let text =
                core::str::from_utf8(bytes).map_err(|_| structure(None, "the file is not UTF-8".into()))?;
            let text = nonfinite_literals_to_null(text);
            let model = serde_json::from_str(&text).map_err(|e| ImportError::Syntax {
                line: Some(e.line()),
                tree: None,
                message: format!("not an XGBoost JSON model: {e}"),
            })?;
            (model, "json")
        }
        FileFormat::Ubjson => {
            let value = super::ubjson::decode(bytes)
                .map_err(|e| structure(None, format!("not an XGBoost UBJSON model: {e}")))?;
            let model = serde_json::from_value(value)
                .map_err(|e| structure(None, format!("not an XGBoost UBJSON model: {e}")))?;
            (model, "ubjson")
        }
        FileFormat::LegacyBinary => {
            return Err(unsupported(
                None,
                "legacy binary XGBoost model (the `.model`/`.bin` format of XGBoost 0.x-1.x, which \
                 XGBoost 3.x cannot load either): re-save it with save_model('model.json') from an \
                 XGBoost version that loads it (1.x-2.x), then import model.json"
                    .into(),
            ));
        }
        FileFormat::Unknown => {
            return Err(structure(
                None,
                "not an XGBoost model: neither JSON nor UBJSON (save it with save_model('model.json'))"
                    .into(),
            ));
        }
    };
    convert(model, format, bytes.len(), options)
}

/// `NaN`, `-NaN`, `Infinity`, `-Infinity` outside strings -> `null`: XGBoost 1.x-2.0 wrote them
/// (e.g. as the unused condition of categorical splits); strict JSON has no such literals.
fn nonfinite_literals_to_null(text: &str) -> alloc::borrow::Cow<'_, str> {
    const LITERALS: [&str; 4] = ["-Infinity", "Infinity", "-NaN", "NaN"];
    if !text.contains("NaN") && !text.contains("Infinity") {
        return alloc::borrow::Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped, mut copied, mut i) = (false, false, 0, 0);
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
        } else if let Some(lit) = LITERALS.iter().find(|l| bytes[i..].starts_with(l.as_bytes())) {
            out.push_str(&text[copied..i]);
            out.push_str("null");
            i += lit.len();
            copied = i;
            continue;
        }
        i += 1;
    }
    out.push_str(&text[copied..]);
    alloc::borrow::Cow::Owned(out)
}

fn convert(
    model: ModelJson,
    format: &str,
    file_len: usize,
    options: &ImportOptions,
) -> Result<ImportedModel, ImportError> {
    let learner = model.learner;
    let version = match model.version.as_slice() {
        [a, b, c, ..] => format!("{a}.{b}.{c}"),
        _ => "(unknown version)".into(),
    };
    let booster = &learner.gradient_booster;
    if booster.name != "gbtree" {
        let why = match booster.name.as_str() {
            "gblinear" => "a linear model, it has no trees; train with booster='gbtree'",
            "dart" => "dart scales trees by weights at prediction; train with booster='gbtree'",
            _ => "train with booster='gbtree'",
        };
        return Err(unsupported(
            None,
            format!("booster `{}`: only `gbtree` is scored ({why})", booster.name),
        ));
    }
    if learner.objective.name != "binary:logistic" {
        return Err(unsupported(
            None,
            format!(
                "objective `{}`: only `binary:logistic` is scored (train with objective='binary:logistic')",
                learner.objective.name
            ),
        ));
    }
    let params = &learner.learner_model_param;
    let num_class: u64 = count(&params.num_class, "num_class", file_len)?;
    if num_class > 1 {
        return Err(unsupported(
            None,
            format!("multiclass models (num_class={num_class}): only binary models are scored"),
        ));
    }
    let num_target: u64 = count(&params.num_target, "num_target", file_len)?;
    if num_target > 1 {
        return Err(unsupported(
            None,
            format!("multi-target models (num_target={num_target}): only one target is scored"),
        ));
    }
    let Some(gbtree) = &booster.model else {
        return Err(structure(None, "gradient_booster has no `model`".into()));
    };

    // Features: names and types; both may be absent (a model trained on a bare matrix).
    let num_features = count(&params.num_feature, "num_feature", file_len)? as usize;
    let feature_names = if learner.feature_names.is_empty() {
        (0..num_features).map(|i| format!("f{i}")).collect()
    } else {
        learner.feature_names.clone()
    };
    if feature_names.len() != num_features {
        return Err(structure(
            None,
            format!("feature_names lists {} names but num_feature is {num_features}", feature_names.len()),
        ));
    }
    for (i, name) in feature_names.iter().enumerate() {
        if name.is_empty() || feature_names[..i].contains(name) {
            return Err(structure(None, format!("feature name `{name}` is empty or appears twice")));
        }
    }
    if !learner.feature_types.is_empty() && learner.feature_types.len() != num_features {
        return Err(structure(
            None,
            format!("feature_types has {} entries for {num_features} features", learner.feature_types.len()),
        ));
    }
    let is_categorical = |f: usize| learner.feature_types.get(f).is_some_and(|t| t == "c");
    let categorical_levels = category_levels(&gbtree.cats, num_features, &is_categorical)?;

    let base_score = parse_base_score(&params.base_score)?;
    // -logf(1/p - 1) in f32 with a correctly rounded logf (the f64 log rounded once to f32).
    let odds = 1.0f32 / base_score - 1.0f32;
    let base_margin = -(libm::log(odds as f64) as f32);
    if !base_margin.is_finite() {
        return Err(structure(None, format!("base_score {base_score} gives a non-finite margin")));
    }

    if gbtree.trees.is_empty() {
        return Err(structure(None, "the model has no trees".into()));
    }
    if let Some(t) = gbtree.tree_info.iter().position(|&g| g != 0) {
        return Err(unsupported(Some(t), "trees for more than one output group (multiclass)".into()));
    }
    let (iterations, kept_trees) = iterations(&learner, gbtree, options)?;
    let mut words_left = file_len as u64;
    let mut trees = Vec::with_capacity(kept_trees);
    for (t, tree) in gbtree.trees.iter().enumerate().take(kept_trees) {
        trees.push(convert_tree(tree, t, num_features, &mut words_left)?);
    }
    let ensemble = Ensemble {
        num_features,
        trees,
        base_score: base_margin as f64,
        arithmetic: Arithmetic::F32,
        link: Link::Sigmoid { scale: 1.0 },
        zero_small_inputs: false,
    };
    ensemble.validate().map_err(ImportError::Ensemble)?;
    Ok(ImportedModel {
        ensemble,
        feature_names,
        categorical_levels,
        source: format!("xgboost {version} {format}"),
        categorical: (0..num_features).map(is_categorical).collect(),
        iterations,
    })
}

/// The iterations kept and how many trees they hold. XGBoost's scikit-learn API
/// (`XGBModel._get_iteration_range`, 3.2.0) predicts with iterations `0..=best_iteration` when
/// the booster has the `best_iteration` attribute (set by early stopping); `Booster.predict`
/// with all of them. An iteration holds `num_parallel_tree` trees (`iteration_indptr` in 3.x).
fn iterations(
    learner: &LearnerJson,
    gbtree: &GbtreeJson,
    options: &ImportOptions,
) -> Result<(Iterations, usize), ImportError> {
    let trees = gbtree.trees.len();
    // Tree offsets of the iterations: iteration_indptr, else num_parallel_tree per iteration.
    let indptr: Vec<usize> = if gbtree.iteration_indptr.len() >= 2 {
        let p = &gbtree.iteration_indptr;
        if p[0] != 0 || p.windows(2).any(|w| w[1] <= w[0]) || p[p.len() - 1] != trees as u64 {
            return Err(structure(None, format!("iteration_indptr does not partition the {trees} trees")));
        }
        p.iter().map(|&v| v as usize).collect()
    } else {
        let per = match &gbtree.gbtree_model_param {
            Some(m) => count(&m.num_parallel_tree, "num_parallel_tree", trees)?.max(1) as usize,
            None => 1,
        };
        if !trees.is_multiple_of(per) {
            return Err(structure(None, format!("{trees} trees are not whole iterations of {per}")));
        }
        (0..=trees / per).map(|i| i * per).collect()
    };
    let in_file = indptr.len() - 1;
    let best = match learner.attributes.get("best_iteration") {
        Some(serde_json::Value::String(s)) => Some(s.trim().parse::<u64>().map_err(|_| {
            structure(None, format!("attributes.best_iteration `{s}` is not a non-negative integer"))
        })?),
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        _ => None,
    };
    let (used, rule) = match best {
        Some(b) if !options.all_trees && (b as usize) < in_file => (b as usize + 1, "best_iteration"),
        Some(b) if !options.all_trees => {
            return Err(structure(
                None,
                format!("attributes.best_iteration={b} but the file has {in_file} iterations"),
            ));
        }
        _ => (in_file, "all"),
    };
    let iterations =
        Iterations { used: used as u64, in_file: in_file as u64, best_iteration: best, rule: rule.into() };
    Ok((iterations, indptr[used]))
}

fn unsupported(tree: Option<usize>, what: String) -> ImportError {
    ImportError::Unsupported { line: None, tree, what }
}

fn structure(tree: Option<usize>, message: String) -> ImportError {
    ImportError::Syntax { line: None, tree, message }
}

/// XGBoost writes counts as strings ("3"); an absent count is 0. Counts above the file size are
/// impossible and rejected before anything is allocated for them.
fn count(text: &Option<String>, name: &str, limit: usize) -> Result<u64, ImportError> {
    let Some(text) = text else { return Ok(0) };
    let n: u64 = text
        .parse()
        .map_err(|_| structure(None, format!("{name} `{text}` is not a non-negative integer")))?;
    if n > limit as u64 {
        return Err(structure(None, format!("{name}={n} is larger than the file could describe")));
    }
    Ok(n)
}

/// `"[4.2E-1]"` (3.x, a vector of one) or `"4.2E-1"` (older) -> 0.42f32, which must lie in (0, 1).
fn parse_base_score(text: &str) -> Result<f32, ImportError> {
    let inner = text.trim().trim_start_matches('[').trim_end_matches(']');
    if inner.contains(',') {
        return Err(unsupported(None, format!("base_score `{text}` with several values")));
    }
    let p: f32 =
        inner.trim().parse().map_err(|_| structure(None, format!("base_score `{text}` is not a number")))?;
    if !(p > 0.0 && p < 1.0) {
        return Err(structure(None, format!("base_score {p} is not a probability in (0, 1)")));
    }
    Ok(p)
}

/// Category labels from `gradient_booster.model.cats` (3.x): per feature, UTF-8 bytes with
/// offsets for string categories, or the numeric category values.
fn category_levels(
    cats: &Option<CatsJson>,
    num_features: usize,
    is_categorical: &dyn Fn(usize) -> bool,
) -> Result<Vec<Option<Vec<String>>>, ImportError> {
    let mut levels: Vec<Option<Vec<String>>> = alloc::vec![None; num_features];
    let Some(cats) = cats else { return Ok(levels) };
    if cats.enc.is_empty() {
        return Ok(levels);
    }
    if cats.enc.len() != num_features {
        return Err(structure(
            None,
            format!("cats.enc has {} entries for {num_features} features", cats.enc.len()),
        ));
    }
    for (f, enc) in cats.enc.iter().enumerate() {
        if !is_categorical(f) {
            continue;
        }
        let bad = |what: &str| structure(None, format!("cats.enc of feature {f}: {what}"));
        let list = if !enc.offsets.is_empty() {
            let mut bytes = Vec::with_capacity(enc.values.len());
            for v in &enc.values {
                match v.as_u64() {
                    Some(b) if b < 256 => bytes.push(b as u8),
                    _ => return Err(bad("string bytes must be integers 0..255")),
                }
            }
            let mut list = Vec::with_capacity(enc.offsets.len().saturating_sub(1));
            for w in enc.offsets.windows(2) {
                let (a, b) = (w[0] as usize, w[1] as usize);
                let slice = bytes.get(a..b).ok_or_else(|| bad("offsets out of range"))?;
                list.push(String::from_utf8(slice.to_vec()).map_err(|_| bad("a label is not UTF-8"))?);
            }
            list
        } else {
            enc.values.iter().map(|v| v.to_string()).collect()
        };
        levels[f] = Some(list);
    }
    Ok(levels)
}

/// Converts XGBoost's node arrays (leaves and splits mixed, ids in creation order) into a tree of
/// internal nodes and leaves, numbered in depth-first order from the root, so children come
/// after their parents. Nodes that cannot be reached from the root (deleted) are dropped.
fn convert_tree(
    tree: &TreeJson,
    t: usize,
    num_features: usize,
    words_left: &mut u64,
) -> Result<Tree, ImportError> {
    let n = tree.left_children.len();
    let err = |message: String| structure(Some(t), message);
    let arrays = [
        ("right_children", tree.right_children.len()),
        ("split_indices", tree.split_indices.len()),
        ("split_conditions", tree.split_conditions.len()),
        ("default_left", tree.default_left.len()),
        ("sum_hessian", tree.sum_hessian.len()),
    ];
    if n == 0 {
        return Err(err("the tree has no nodes".into()));
    }
    for (name, len) in arrays {
        if len != n {
            return Err(err(format!("{name} has {len} entries, left_children has {n}")));
        }
    }
    if !tree.split_type.is_empty() && tree.split_type.len() != n {
        return Err(err(format!("split_type has {} entries for {n} nodes", tree.split_type.len())));
    }
    // Category sets by node id.
    let k = tree.categories_nodes.len();
    if tree.categories_segments.len() != k || tree.categories_sizes.len() != k {
        return Err(err("categories_nodes, _segments and _sizes differ in length".into()));
    }
    let mut cat_set_of: Vec<Option<usize>> = alloc::vec![None; n];
    for (j, &node) in tree.categories_nodes.iter().enumerate() {
        let slot = cat_set_of
            .get_mut(node as usize)
            .ok_or_else(|| err(format!("categories_nodes[{j}] = {node} is not a node")))?;
        *slot = Some(j);
    }

    let mut nodes: Vec<Node> = Vec::new();
    let mut leaf_values: Vec<f64> = Vec::new();
    let mut leaf_covers: Vec<f64> = Vec::new();
    let mut cat_words: Vec<u32> = Vec::new();
    let mut visited = alloc::vec![false; n];
    // (xgboost node id, (parent internal index, is right child)).
    let mut stack: Vec<(usize, Option<(usize, bool)>)> = alloc::vec![(0, None)];
    while let Some((id, parent)) = stack.pop() {
        if core::mem::replace(&mut visited[id], true) {
            return Err(err(format!("node {id} is reached twice")));
        }
        let cover = tree.sum_hessian[id] as f32 as f64;
        let left = tree.left_children[id];
        let reference: i32 = if left == -1 {
            let value = tree.split_conditions[id].unwrap_or(f64::NAN) as f32;
            if !value.is_finite() {
                return Err(err(format!("leaf {id} has a non-finite value")));
            }
            leaf_values.push(value as f64);
            leaf_covers.push(cover);
            !((leaf_values.len() - 1) as i32)
        } else {
            let right = tree.right_children[id];
            let (Ok(l), Ok(r)) = (usize::try_from(left), usize::try_from(right)) else {
                return Err(err(format!("node {id} has children {left} and {right}")));
            };
            if l >= n || r >= n {
                return Err(err(format!("node {id} has children {left} and {right}, beyond {n} nodes")));
            }
            let feature = tree.split_indices[id];
            if feature >= num_features as u64 {
                return Err(err(format!(
                    "node {id} splits on feature {feature}, the model has {num_features}"
                )));
            }
            let default_left = tree.default_left[id].0;
            let split = if tree.split_type.get(id).copied().unwrap_or(0) == 1 {
                let j = cat_set_of[id]
                    .ok_or_else(|| err(format!("categorical node {id} has no category set")))?;
                let (start, size) = (tree.categories_segments[j], tree.categories_sizes[j]);
                let set = start
                    .checked_add(size)
                    .and_then(|end| tree.categories.get(start as usize..end as usize))
                    .ok_or_else(|| err(format!("category set of node {id} is out of range")))?;
                let max = set.iter().copied().max().unwrap_or(0);
                if max >= MAX_CATEGORY {
                    return Err(err(format!("node {id}: category {max} is beyond XGBoost's limit")));
                }
                let len = max / 32 + 1;
                if len > *words_left {
                    return Err(err("category sets larger than the file could describe".into()));
                }
                *words_left -= len;
                let bitset_start = cat_words.len() as u32;
                cat_words.resize(cat_words.len() + len as usize, 0);
                for &c in set {
                    cat_words[bitset_start as usize + (c / 32) as usize] |= 1 << (c % 32);
                }
                Split::Categorical {
                    bitset_start,
                    bitset_len: len as u32,
                    in_set_left: false,
                    default_left,
                    strict_codes: false,
                }
            } else {
                let threshold = tree.split_conditions[id].unwrap_or(f64::NAN) as f32;
                if threshold.is_nan() {
                    return Err(err(format!("node {id} has a NaN threshold")));
                }
                Split::LessThanF32 { threshold: threshold as f64, default_left }
            };
            nodes.push(Node { feature: feature as u32, split, left: 0, right: 0, cover });
            let index = nodes.len() - 1;
            // Right pushed first so the left subtree is numbered first.
            stack.push((r, Some((index, true))));
            stack.push((l, Some((index, false))));
            index as i32
        };
        if let Some((p, is_right)) = parent {
            if is_right {
                nodes[p].right = reference;
            } else {
                nodes[p].left = reference;
            }
        }
    }
    Ok(Tree { nodes, leaf_values, leaf_covers, cat_words })
}

#[derive(Deserialize)]
struct ModelJson {
    #[serde(default)]
    version: Vec<u64>,
    learner: LearnerJson,
}

#[derive(Deserialize)]
struct LearnerJson {
    /// String attributes set by the training APIs, e.g. `best_iteration` from early stopping.
    #[serde(default)]
    attributes: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    feature_names: Vec<String>,
    #[serde(default)]
    feature_types: Vec<String>,
    learner_model_param: LearnerParamJson,
    objective: ObjectiveJson,
    gradient_booster: BoosterJson,
}

#[derive(Deserialize)]
struct LearnerParamJson {
    base_score: String,
    #[serde(default)]
    num_class: Option<String>,
    #[serde(default)]
    num_feature: Option<String>,
    #[serde(default)]
    num_target: Option<String>,
}

#[derive(Deserialize)]
struct ObjectiveJson {
    name: String,
}

#[derive(Deserialize)]
struct BoosterJson {
    name: String,
    #[serde(default)]
    model: Option<GbtreeJson>,
}

#[derive(Deserialize)]
struct GbtreeJson {
    /// Absent in a `gblinear` model (refused by name before trees are needed).
    #[serde(default)]
    trees: Vec<TreeJson>,
    #[serde(default)]
    gbtree_model_param: Option<GbtreeParamJson>,
    /// Tree offsets of each iteration (3.x).
    #[serde(default)]
    iteration_indptr: Vec<u64>,
    #[serde(default)]
    tree_info: Vec<i64>,
    #[serde(default)]
    cats: Option<CatsJson>,
}

#[derive(Deserialize)]
struct GbtreeParamJson {
    #[serde(default)]
    num_parallel_tree: Option<String>,
}

#[derive(Deserialize)]
struct CatsJson {
    #[serde(default)]
    enc: Vec<EncJson>,
}

#[derive(Deserialize)]
struct EncJson {
    #[serde(default)]
    offsets: Vec<u64>,
    #[serde(default)]
    values: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct TreeJson {
    left_children: Vec<i64>,
    right_children: Vec<i64>,
    split_indices: Vec<u64>,
    /// `null` where the file had a non-finite literal (see [`nonfinite_literals_to_null`]).
    split_conditions: Vec<Option<f64>>,
    default_left: Vec<Flag>,
    #[serde(default)]
    split_type: Vec<u8>,
    sum_hessian: Vec<f64>,
    #[serde(default)]
    categories: Vec<u64>,
    #[serde(default)]
    categories_nodes: Vec<u64>,
    #[serde(default)]
    categories_segments: Vec<u64>,
    #[serde(default)]
    categories_sizes: Vec<u64>,
}

/// `default_left` entries: 0/1 (3.x) or booleans (older writers).
struct Flag(bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Flag;
            fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("0, 1 or a boolean")
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Flag, E> {
                Ok(Flag(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Flag, E> {
                Ok(Flag(v != 0))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Flag, E> {
                Ok(Flag(v != 0))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two trees: x0 < 0.22 then cat in {0,2,4} (right) / x0 < 0.696; a single-leaf tree.
    const EXAMPLE: &str = r#"{"version":[3,2,0],"learner":{"attributes":{},"feature_names":["x0","x1","cat"],
      "feature_types":["float","float","c"],
      "learner_model_param":{"base_score":"[4.2E-1]","boost_from_average":"1","num_class":"0","num_feature":"3","num_target":"1"},
      "objective":{"name":"binary:logistic","reg_loss_param":{"scale_pos_weight":"1"}},
      "gradient_booster":{"name":"gbtree","model":{
        "cats":{"enc":[{"offsets":[],"values":[]},{"offsets":[],"values":[]},{"offsets":[0,1,2,3,4,5],"values":[97,98,99,100,101]}],
                "feature_segments":[0,0,0,5],"sorted_idx":[0,1,2,3,4]},
        "gbtree_model_param":{"num_parallel_tree":"1","num_trees":"2"},"iteration_indptr":[0,1,2],"tree_info":[0,0],
        "trees":[{"base_weights":[0,0,0,0,0,0,0],"categories":[0,2,4],"categories_nodes":[1],"categories_segments":[0],
          "categories_sizes":[3],"default_left":[1,1,0,0,0,0,0],"id":0,"left_children":[1,3,5,-1,-1,-1,-1],
          "loss_changes":[0,0,0,0,0,0,0],"parents":[2147483647,0,0,1,1,2,2],"right_children":[2,4,6,-1,-1,-1,-1],
          "split_conditions":[0.22019513,1e-45,0.6960427,0.12557176,-0.44468525,0.17311987,0.6314157],
          "split_indices":[0,2,0,0,0,0,0],"split_type":[0,1,0,0,0,0,0],
          "sum_hessian":[73.08,48.4764,24.6036,17.5392,30.937199,9.7439995,14.8596],
          "tree_param":{"num_deleted":"0","num_feature":"3","num_nodes":"7","size_leaf_vector":"1"}},
         {"base_weights":[0.5],"categories":[],"categories_nodes":[],"categories_segments":[],"categories_sizes":[],
          "default_left":[0],"id":1,"left_children":[-1],"loss_changes":[0],"parents":[2147483647],"right_children":[-1],
          "split_conditions":[0.5],"split_indices":[0],"split_type":[0],"sum_hessian":[73.08],
          "tree_param":{"num_deleted":"0","num_feature":"3","num_nodes":"1","size_leaf_vector":"1"}}]}}}}"#;

    #[test]
    fn parses_the_documented_layout() {
        let m = parse(EXAMPLE).unwrap();
        assert_eq!(m.feature_names, ["x0", "x1", "cat"]);
        assert_eq!(m.categorical_levels[2].as_deref().unwrap(), ["a", "b", "c", "d", "e"]);
        let e = &m.ensemble;
        let margin = -libm::logf(1.0 / 0.42f32 - 1.0);
        assert_eq!(e.base_score, margin as f64);
        // x0 missing -> left (default_left); cat 'a' (code 0) is in the set {0,2,4}: right (node 4).
        let expect = |leaf: f32| ((margin + leaf) + 0.5f32) as f64;
        assert_eq!(e.raw_score(&[f64::NAN, 0.0, 0.0]), expect(-0.44468525));
        assert_eq!(e.raw_score(&[f64::NAN, 0.0, 1.0]), expect(0.12557176));
        // x0 exactly at the f32 threshold goes right; NaN cat -> default_left (left).
        assert_eq!(e.raw_score(&[0.22019513f32 as f64, 0.0, f64::NAN]), expect(0.17311987));
        assert_eq!(e.raw_score(&[0.1, 0.0, f64::NAN]), expect(0.12557176));
        assert_eq!(e.trees[0].nodes[0].cover, 73.08f32 as f64);
    }

    #[test]
    fn rejects_other_objectives_and_boosters() {
        let other = EXAMPLE.replace("binary:logistic", "reg:squarederror");
        assert!(parse(&other).unwrap_err().to_string().contains("reg:squarederror"));
        let dart = EXAMPLE.replace(r#""name":"gbtree""#, r#""name":"dart""#);
        assert!(matches!(parse(&dart), Err(ImportError::Unsupported { .. })));
        let multi = EXAMPLE.replace(r#""num_class":"0""#, r#""num_class":"3""#);
        assert!(matches!(parse(&multi), Err(ImportError::Unsupported { .. })));
    }

    #[test]
    fn hostile_structures_are_errors() {
        let cycle = EXAMPLE.replace("[1,3,5,-1,-1,-1,-1]", "[1,0,5,-1,-1,-1,-1]");
        assert!(parse(&cycle).is_err());
        let huge_cat = EXAMPLE.replace(r#""categories":[0,2,4]"#, r#""categories":[0,2,4000000000]"#);
        assert!(parse(&huge_cat).is_err());
        let many = EXAMPLE
            .replace(r#""num_feature":"3","num_target""#, r#""num_feature":"99999999999","num_target""#);
        assert!(parse(&many).is_err());
        assert!(parse("{").is_err());
        assert!(parse("[]").is_err());
        for end in 0..EXAMPLE.len() {
            if EXAMPLE.is_char_boundary(end) {
                assert!(parse(&EXAMPLE[..end]).is_err());
            }
        }
    }
    #[test]
    fn nonfinite_literals_become_null_outside_strings_only() {
        let text = r#"{"a":[NaN,-Infinity,Infinity,1.5,-NaN],"NaN":"Infinity \"NaN\"","b":NaN}"#;
        assert_eq!(
            nonfinite_literals_to_null(text),
            r#"{"a":[null,null,null,1.5,null],"NaN":"Infinity \"NaN\"","b":null}"#
        );
        // A feature named NaN keeps its name; the 1.x condition literal is read.
        let old = EXAMPLE.replace(r#""x1""#, r#""NaN""#).replace("1e-45,", "NaN,");
        let m = parse(&old).unwrap();
        assert_eq!(m.feature_names[1], "NaN");
        assert_eq!(m.ensemble, parse(EXAMPLE).unwrap().ensemble);
    }

    #[test]
    fn formats_are_told_apart() {
        assert_eq!(detect(EXAMPLE.as_bytes()), FileFormat::Json);
        assert_eq!(detect(b"  {}"), FileFormat::Json);
        assert_eq!(detect(b"{L\x00\x00\x00\x00\x00\x00\x00\x07learner{}}"), FileFormat::Ubjson);
        let mut legacy = alloc::vec![0u8; 136];
        legacy.extend_from_slice(&15u64.to_le_bytes());
        legacy.extend_from_slice(b"binary:logistic");
        assert_eq!(detect(&legacy), FileFormat::LegacyBinary);
        let mut binf = b"binf".to_vec();
        binf.extend_from_slice(&legacy);
        assert_eq!(detect(&binf), FileFormat::LegacyBinary);
        assert_eq!(detect(b"tree\nversion=v4\n"), FileFormat::Unknown);
        let e = parse_bytes(&legacy, &ImportOptions::default()).unwrap_err().to_string();
        assert!(e.contains("legacy binary XGBoost model") && e.contains("save_model('model.json')"), "{e}");
        assert!(
            parse_bytes(b"tree\n", &ImportOptions::default())
                .unwrap_err()
                .to_string()
                .contains("neither JSON")
        );
    }

    #[test]
    fn best_iteration_must_lie_in_the_file() {
        let with = |best: &str| {
            EXAMPLE.replace(r#""attributes":{}"#, &format!(r#""attributes":{{"best_iteration":"{best}"}}"#))
        };
        let m = parse(&with("0")).unwrap();
        assert_eq!((m.ensemble.trees.len(), m.iterations.used, m.iterations.in_file), (1, 1, 2));
        let all = parse_bytes(with("0").as_bytes(), &ImportOptions { all_trees: true }).unwrap();
        assert_eq!((all.ensemble.trees.len(), all.iterations.rule.as_str()), (2, "all"));
        assert!(parse(&with("2")).is_err());
        assert!(parse(&with("x")).is_err());
    }

    #[test]
    fn random_byte_edits_never_panic() {
        crate::import::random_byte_edits(EXAMPLE, |text| {
            let _ = parse(text);
        });
    }
}
