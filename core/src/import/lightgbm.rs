//! LightGBM text models (`Booster.save_model`, `version=v4`), binary objective.
//!
//! Supported: numeric splits with missing types None / Zero / NaN and default_left, categorical
//! bitset splits (`cat_boundaries` / `cat_threshold`) with `pandas_categorical` levels, the init
//! score already in tree 0, single-leaf trees, `objective=binary sigmoid:S`.
//! Rejected with a clear error: multiclass, linear trees, random forests (`average_output`),
//! other objectives.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::{ImportError, ImportedModel};
use crate::bundle::Iterations;
use crate::ensemble::{Arithmetic, Ensemble, Link, MissingType, Node, Split, Tree};

/// Parses the text of a LightGBM model file.
pub fn parse(text: &str) -> Result<ImportedModel, ImportError> {
    let mut lines = Lines { inner: text.lines().enumerate().peekable() };
    let header = read_header(&mut lines)?;
    let num_features = header.feature_names.len();

    let mut trees = Vec::new();
    let mut ended = false;
    while let Some((line_no, line)) = lines.next_nonblank() {
        if line == "end of trees" {
            ended = true;
            break;
        }
        let Some(index) = line.strip_prefix("Tree=") else {
            return Err(syntax(Some(line_no), Some(trees.len()), format!("expected `Tree={}`", trees.len())));
        };
        if index.parse::<usize>().ok() != Some(trees.len()) {
            return Err(syntax(
                Some(line_no),
                Some(trees.len()),
                format!("trees must be numbered in order: expected `Tree={}`, found `{line}`", trees.len()),
            ));
        }
        trees.push(read_tree(&mut lines, trees.len(), line_no, num_features)?);
    }
    if !ended {
        return Err(syntax(None, None, "the file ends before `end of trees` (truncated?)".into()));
    }
    if trees.is_empty() {
        return Err(syntax(None, None, "the model has no trees".into()));
    }

    let trailer = read_trailer(&mut lines)?;
    let categorical = categorical_features(&header, &trees, &trailer)?;
    let categorical_levels = assign_levels(&categorical, trailer.pandas)?;
    // LightGBM's `save_model` writes the trees up to the best iteration already (the Python
    // package passes `best_iteration` as num_iteration); the file records no best iteration.
    let iterations = Iterations {
        used: trees.len() as u64,
        in_file: trees.len() as u64,
        best_iteration: None,
        rule: "all".into(),
    };

    let ensemble = Ensemble {
        num_features,
        trees,
        base_score: 0.0,
        arithmetic: Arithmetic::F64,
        link: Link::Sigmoid { scale: header.sigmoid },
        zero_small_inputs: true,
    };
    ensemble.validate().map_err(ImportError::Ensemble)?;
    Ok(ImportedModel {
        ensemble,
        feature_names: header.feature_names,
        categorical_levels,
        source: format!("lightgbm text model {}", header.version),
        categorical,
        iterations,
    })
}

struct Lines<'a> {
    inner: core::iter::Peekable<core::iter::Enumerate<core::str::Lines<'a>>>,
}

impl<'a> Lines<'a> {
    /// Next line that is not blank, with its 1-based number, without a trailing `\r`.
    fn next_nonblank(&mut self) -> Option<(usize, &'a str)> {
        for (i, line) in self.inner.by_ref() {
            let line = line.trim_end_matches('\r');
            if !line.trim().is_empty() {
                return Some((i + 1, line));
            }
        }
        None
    }
}

fn syntax(line: Option<usize>, tree: Option<usize>, message: String) -> ImportError {
    ImportError::Syntax { line, tree, message }
}

fn unsupported(line: Option<usize>, tree: Option<usize>, what: String) -> ImportError {
    ImportError::Unsupported { line, tree, what }
}

struct Header {
    version: String,
    feature_names: Vec<String>,
    /// `feature_infos` entry of each feature (`[min:max]`, `none`, or category list).
    feature_infos: Vec<String>,
    sigmoid: f64,
}

fn read_header(lines: &mut Lines<'_>) -> Result<Header, ImportError> {
    let Some((first_no, first)) = lines.next_nonblank() else {
        return Err(syntax(None, None, "the file is empty".into()));
    };
    if first != "tree" {
        return Err(syntax(
            Some(first_no),
            None,
            format!("not a LightGBM text model: the first line is `{}`, expected `tree`", clip(first)),
        ));
    }
    let mut version = None;
    let mut feature_names: Option<(usize, Vec<String>)> = None;
    let mut feature_infos: Option<Vec<String>> = None;
    let mut max_feature_idx: Option<(usize, i64)> = None;
    let mut objective: Option<(usize, &str)> = None;
    loop {
        let Some(&(i, raw)) = lines.inner.peek() else {
            return Err(syntax(None, None, "the file ends before the first tree".into()));
        };
        let line = raw.trim_end_matches('\r');
        let line_no = i + 1;
        if line.starts_with("Tree=") || line == "end of trees" {
            break;
        }
        lines.inner.next();
        if line.trim().is_empty() {
            continue;
        }
        if line == "average_output" {
            return Err(unsupported(
                Some(line_no),
                None,
                "random forest models (`average_output`, boosting=rf): retrain with boosting='gbdt'".into(),
            ));
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(syntax(Some(line_no), None, format!("expected `key=value`, found `{}`", clip(line))));
        };
        match key {
            "version" => {
                // v2 (LightGBM 2.x) has the same fields as v3/v4 for everything read here, and
                // LightGBM 4.7 loads it with the same rules.
                if !matches!(value, "v2" | "v3" | "v4") {
                    return Err(unsupported(
                        Some(line_no),
                        None,
                        format!(
                            "model format version `{}` (v2, v3 and v4 are read): load the model with \
                             LightGBM 4.x and save it again with save_model('model.txt')",
                            clip(value)
                        ),
                    ));
                }
                version = Some(value.to_string());
            }
            "num_class" | "num_tree_per_iteration" if value != "1" => {
                return Err(unsupported(
                    Some(line_no),
                    None,
                    format!(
                        "multiclass models (`{key}={value}`): only binary models are scored (objective='binary')"
                    ),
                ));
            }
            "max_feature_idx" => {
                let n = value.parse::<i64>().map_err(|_| {
                    syntax(
                        Some(line_no),
                        None,
                        format!("max_feature_idx `{}` is not an integer", clip(value)),
                    )
                })?;
                max_feature_idx = Some((line_no, n));
            }
            "objective" => objective = Some((line_no, value)),
            "feature_names" => {
                feature_names = Some((line_no, value.split(' ').map(String::from).collect()));
            }
            "feature_infos" => feature_infos = Some(value.split(' ').map(String::from).collect()),
            _ => {}
        }
    }
    let version = version.ok_or_else(|| syntax(None, None, "the header has no `version=` line".into()))?;
    let (names_line, feature_names) =
        feature_names.ok_or_else(|| syntax(None, None, "the header has no `feature_names=` line".into()))?;
    for (i, name) in feature_names.iter().enumerate() {
        if name.is_empty() {
            return Err(syntax(Some(names_line), None, format!("feature name {i} is empty")));
        }
        if feature_names[..i].contains(name) {
            return Err(syntax(Some(names_line), None, format!("feature name `{name}` appears twice")));
        }
    }
    if let Some((line_no, n)) = max_feature_idx
        && n + 1 != feature_names.len() as i64
    {
        return Err(syntax(
            Some(line_no),
            None,
            format!("max_feature_idx={n} but feature_names lists {} names", feature_names.len()),
        ));
    }
    let feature_infos = match feature_infos {
        Some(infos) if infos.len() == feature_names.len() => infos,
        Some(infos) => {
            return Err(syntax(
                None,
                None,
                format!("feature_infos has {} entries for {} features", infos.len(), feature_names.len()),
            ));
        }
        None => alloc::vec![String::new(); feature_names.len()],
    };
    let (objective_line, objective) =
        objective.ok_or_else(|| syntax(None, None, "the header has no `objective=` line".into()))?;
    let sigmoid = parse_objective(objective, objective_line)?;
    Ok(Header { version, feature_names, feature_infos, sigmoid })
}

/// `binary sigmoid:S` -> S. Other objectives are rejected.
fn parse_objective(objective: &str, line: usize) -> Result<f64, ImportError> {
    let mut words = objective.split(' ');
    let name = words.next().unwrap_or("");
    if name != "binary" {
        return Err(unsupported(
            Some(line),
            None,
            format!(
                "objective `{}`: only `binary` (sigmoid link) is scored (train with objective='binary')",
                clip(objective)
            ),
        ));
    }
    let mut sigmoid = 1.0;
    for word in words {
        if let Some(s) = word.strip_prefix("sigmoid:") {
            sigmoid = s.parse::<f64>().ok().filter(|s| s.is_finite() && *s > 0.0).ok_or_else(|| {
                syntax(Some(line), None, format!("sigmoid scale `{}` is not a positive number", clip(s)))
            })?;
        }
    }
    Ok(sigmoid)
}

/// The per-tree arrays, as read from `key=value` lines.
#[derive(Default)]
struct TreeText<'a> {
    num_leaves: Option<(usize, &'a str)>,
    num_cat: Option<(usize, &'a str)>,
    split_feature: Option<(usize, &'a str)>,
    threshold: Option<(usize, &'a str)>,
    decision_type: Option<(usize, &'a str)>,
    left_child: Option<(usize, &'a str)>,
    right_child: Option<(usize, &'a str)>,
    leaf_value: Option<(usize, &'a str)>,
    leaf_count: Option<(usize, &'a str)>,
    internal_count: Option<(usize, &'a str)>,
    cat_boundaries: Option<(usize, &'a str)>,
    cat_threshold: Option<(usize, &'a str)>,
}

fn read_tree(
    lines: &mut Lines<'_>,
    t: usize,
    tree_line: usize,
    num_features: usize,
) -> Result<Tree, ImportError> {
    let mut text = TreeText::default();
    while let Some(&(i, raw)) = lines.inner.peek() {
        let line = raw.trim_end_matches('\r');
        if line.starts_with("Tree=") || line == "end of trees" {
            break;
        }
        lines.inner.next();
        if line.trim().is_empty() {
            continue;
        }
        let line_no = i + 1;
        let Some((key, value)) = line.split_once('=') else {
            return Err(syntax(
                Some(line_no),
                Some(t),
                format!("expected `key=value`, found `{}`", clip(line)),
            ));
        };
        let slot = match key {
            "num_leaves" => &mut text.num_leaves,
            "num_cat" => &mut text.num_cat,
            "split_feature" => &mut text.split_feature,
            "threshold" => &mut text.threshold,
            "decision_type" => &mut text.decision_type,
            "left_child" => &mut text.left_child,
            "right_child" => &mut text.right_child,
            "leaf_value" => &mut text.leaf_value,
            "leaf_count" => &mut text.leaf_count,
            "internal_count" => &mut text.internal_count,
            "cat_boundaries" => &mut text.cat_boundaries,
            "cat_threshold" => &mut text.cat_threshold,
            "is_linear" => {
                if value.trim() != "0" {
                    return Err(unsupported(
                        Some(line_no),
                        Some(t),
                        "linear trees (`is_linear=1`): retrain with linear_tree=False".into(),
                    ));
                }
                continue;
            }
            _ => continue,
        };
        *slot = Some((line_no, value));
    }

    let need = |field: Option<(usize, &str)>, name: &str| -> Result<(usize, String), ImportError> {
        field
            .map(|(l, v)| (l, v.to_string()))
            .ok_or_else(|| syntax(Some(tree_line), Some(t), format!("tree has no `{name}=` line")))
    };
    let (nl_line, nl) = need(text.num_leaves, "num_leaves")?;
    let num_leaves: usize = nl.trim().parse().ok().filter(|&n| n >= 1).ok_or_else(|| {
        syntax(Some(nl_line), Some(t), format!("num_leaves `{}` is not a positive integer", clip(&nl)))
    })?;
    let internal = num_leaves - 1;

    let leaf_values: Vec<f64> = parse_array(text.leaf_value, "leaf_value", num_leaves, t, tree_line)?;
    if let Some((line, v)) =
        leaf_values.iter().enumerate().find(|(_, v)| !v.is_finite()).map(|(i, v)| (i, *v))
    {
        return Err(syntax(
            text.leaf_value.map(|l| l.0),
            Some(t),
            format!("leaf {line} has non-finite value {v}"),
        ));
    }
    // A single-leaf tree may print an empty leaf_count: its cover does not matter.
    let no_counts = text.leaf_count.is_none_or(|(_, v)| v.trim().is_empty());
    let leaf_covers: Vec<f64> = if internal == 0 && no_counts {
        alloc::vec![0.0; num_leaves]
    } else {
        parse_array(text.leaf_count, "leaf_count", num_leaves, t, tree_line)?
    };
    if internal == 0 {
        return Ok(Tree { nodes: Vec::new(), leaf_values, leaf_covers, cat_words: Vec::new() });
    }

    let split_feature: Vec<i64> = parse_array(text.split_feature, "split_feature", internal, t, tree_line)?;
    let thresholds: Vec<f64> = parse_array(text.threshold, "threshold", internal, t, tree_line)?;
    let decision_type: Vec<i64> = parse_array(text.decision_type, "decision_type", internal, t, tree_line)?;
    let left_child: Vec<i64> = parse_array(text.left_child, "left_child", internal, t, tree_line)?;
    let right_child: Vec<i64> = parse_array(text.right_child, "right_child", internal, t, tree_line)?;
    let internal_count: Vec<f64> =
        parse_array(text.internal_count, "internal_count", internal, t, tree_line)?;

    let num_cat: usize = match text.num_cat {
        Some((line, v)) => v
            .trim()
            .parse()
            .map_err(|_| syntax(Some(line), Some(t), format!("num_cat `{}` is not an integer", clip(v))))?,
        None => 0,
    };
    let (cat_boundaries, cat_words): (Vec<i64>, Vec<u32>) = if num_cat > 0 {
        if num_cat > internal {
            return Err(syntax(
                text.num_cat.map(|l| l.0),
                Some(t),
                format!("num_cat={num_cat} exceeds the {internal} internal nodes"),
            ));
        }
        let bounds: Vec<i64> = parse_array(text.cat_boundaries, "cat_boundaries", num_cat + 1, t, tree_line)?;
        let words_line = text.cat_threshold.map(|l| l.0);
        let words: Vec<i64> = parse_array(text.cat_threshold, "cat_threshold", usize::MAX, t, tree_line)?;
        let words =
            words.into_iter().map(|w| u32::try_from(w).ok()).collect::<Option<Vec<u32>>>().ok_or_else(
                || syntax(words_line, Some(t), "cat_threshold holds a value outside 0..2^32".into()),
            )?;
        let ok = bounds.first() == Some(&0)
            && bounds.windows(2).all(|w| w[0] <= w[1])
            && bounds.last().is_some_and(|&b| b as usize == words.len());
        if !ok {
            return Err(syntax(
                text.cat_boundaries.map(|l| l.0),
                Some(t),
                "cat_boundaries must rise from 0 to the number of cat_threshold words".into(),
            ));
        }
        (bounds, words)
    } else {
        (Vec::new(), Vec::new())
    };

    let mut nodes = Vec::with_capacity(internal);
    let dt_line = text.decision_type.map(|l| l.0);
    for i in 0..internal {
        let feature = split_feature[i];
        if feature < 0 || feature as usize >= num_features {
            return Err(syntax(
                text.split_feature.map(|l| l.0),
                Some(t),
                format!("node {i} splits on feature {feature}, but the model has {num_features} features"),
            ));
        }
        let child = |c: i64| -> Result<i32, ImportError> {
            i32::try_from(c)
                .map_err(|_| syntax(Some(tree_line), Some(t), format!("node {i}: child {c} is out of range")))
        };
        let dt = decision_type[i];
        if !(0..=15).contains(&dt) {
            return Err(syntax(
                dt_line,
                Some(t),
                format!("node {i}: decision_type {dt} is not a known bitfield"),
            ));
        }
        let default_left = dt & 2 != 0;
        let missing = match (dt >> 2) & 3 {
            0 => MissingType::None,
            1 => MissingType::Zero,
            2 => MissingType::NaN,
            _ => {
                return Err(syntax(
                    dt_line,
                    Some(t),
                    format!("node {i}: decision_type {dt} has missing type 3"),
                ));
            }
        };
        let split = if dt & 1 == 1 {
            let th = thresholds[i];
            let index = th as i64;
            if th != libm::trunc(th) || index < 0 || index as usize >= num_cat {
                return Err(syntax(
                    text.threshold.map(|l| l.0),
                    Some(t),
                    format!("node {i}: categorical threshold {th} is not an index below num_cat={num_cat}"),
                ));
            }
            let start = cat_boundaries[index as usize];
            let end = cat_boundaries[index as usize + 1];
            // LightGBM sends NaN (and codes outside the bitset) right, whatever default_left says.
            Split::Categorical {
                bitset_start: start as u32,
                bitset_len: (end - start) as u32,
                in_set_left: true,
                default_left: false,
                strict_codes: false,
            }
        } else {
            if thresholds[i].is_nan() {
                return Err(syntax(
                    text.threshold.map(|l| l.0),
                    Some(t),
                    format!("node {i}: threshold is NaN"),
                ));
            }
            Split::LessOrEqual { threshold: thresholds[i], missing, default_left }
        };
        nodes.push(Node {
            feature: feature as u32,
            split,
            left: child(left_child[i])?,
            right: child(right_child[i])?,
            cover: internal_count[i],
        });
    }
    Ok(Tree { nodes, leaf_values, leaf_covers, cat_words })
}

/// A value type of a tree line's array, with how errors name it.
trait ArrayValue: core::str::FromStr {
    const WHAT: &'static str;
}

impl ArrayValue for f64 {
    const WHAT: &'static str = "a number";
}

impl ArrayValue for i64 {
    const WHAT: &'static str = "an integer";
}

/// A tree's `name=v0 v1 ...` line (space-separated) as values of `T`; `expected = usize::MAX`
/// accepts any length.
fn parse_array<T: ArrayValue>(
    field: Option<(usize, &str)>,
    name: &str,
    expected: usize,
    t: usize,
    tree_line: usize,
) -> Result<Vec<T>, ImportError> {
    let Some((line, text)) = field else {
        return Err(syntax(Some(tree_line), Some(t), format!("tree has no `{name}=` line")));
    };
    let mut out = Vec::new();
    for (k, word) in text.split(' ').filter(|w| !w.is_empty()).enumerate() {
        if out.len() == expected {
            return Err(syntax(
                Some(line),
                Some(t),
                format!("{name} has more than the {expected} values expected"),
            ));
        }
        out.push(word.parse::<T>().map_err(|_| {
            syntax(Some(line), Some(t), format!("{name}[{k}] = `{}` is not {}", clip(word), T::WHAT))
        })?);
    }
    if expected != usize::MAX && out.len() != expected {
        return Err(syntax(
            Some(line),
            Some(t),
            format!("{name} has {} values, expected {expected}", out.len()),
        ));
    }
    Ok(out)
}

/// Category level lists and the line they were read from.
type PandasCategorical = Option<(usize, Vec<Vec<String>>)>;

/// What follows the trees: the `[categorical_feature: ...]` training parameter and the Python
/// package's `pandas_categorical:` line.
struct Trailer {
    /// Feature indices of `[categorical_feature: 0,3]` (empty when absent or empty), and its line.
    categorical_feature: Option<(usize, Vec<usize>)>,
    pandas: PandasCategorical,
}

fn read_trailer(lines: &mut Lines<'_>) -> Result<Trailer, ImportError> {
    let mut trailer = Trailer { categorical_feature: None, pandas: None };
    while let Some((line_no, line)) = lines.next_nonblank() {
        if let Some(list) = line.strip_prefix("[categorical_feature:").and_then(|l| l.strip_suffix(']')) {
            let mut features = Vec::new();
            for word in list.split(',').map(str::trim).filter(|w| !w.is_empty()) {
                features.push(word.parse::<usize>().map_err(|_| {
                    syntax(
                        Some(line_no),
                        None,
                        format!("categorical_feature entry `{}` is not a feature index", clip(word)),
                    )
                })?);
            }
            trailer.categorical_feature = Some((line_no, features));
            continue;
        }
        let Some(json) = line.strip_prefix("pandas_categorical:") else { continue };
        let value: serde_json::Value = serde_json::from_str(json)
            .map_err(|e| syntax(Some(line_no), None, format!("pandas_categorical is not valid JSON: {e}")))?;
        let lists = match value {
            serde_json::Value::Null => break,
            serde_json::Value::Array(lists) => lists,
            _ => {
                return Err(syntax(Some(line_no), None, "pandas_categorical must be a list of lists".into()));
            }
        };
        let mut out = Vec::with_capacity(lists.len());
        for list in lists {
            let serde_json::Value::Array(levels) = list else {
                return Err(syntax(Some(line_no), None, "pandas_categorical must be a list of lists".into()));
            };
            let mut names = Vec::with_capacity(levels.len());
            for level in levels {
                names.push(match level {
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Number(n) => n.to_string(),
                    serde_json::Value::Bool(b) => b.to_string(),
                    other => {
                        return Err(syntax(
                            Some(line_no),
                            None,
                            format!("category level {other} is not a label"),
                        ));
                    }
                });
            }
            out.push(names);
        }
        trailer.pandas = Some((line_no, out));
        break;
    }
    Ok(trailer)
}

/// The model's categorical features. The training parameter `categorical_feature` lists them
/// (the Python package passes the pandas category columns there), including columns the trees
/// never split on, e.g. a category with a single level, whose `feature_infos` is `none`. Files
/// without the parameters section: features with a category list in `feature_infos` or with
/// categorical splits.
fn categorical_features(
    header: &Header,
    trees: &[Tree],
    trailer: &Trailer,
) -> Result<Vec<bool>, ImportError> {
    let n = header.feature_names.len();
    let mut categorical = alloc::vec![false; n];
    for (f, info) in header.feature_infos.iter().enumerate() {
        categorical[f] = !info.is_empty() && info != "none" && !info.starts_with('[');
    }
    for tree in trees {
        for node in &tree.nodes {
            if matches!(node.split, Split::Categorical { .. }) {
                categorical[node.feature as usize] = true;
            }
        }
    }
    if let Some((line, features)) = &trailer.categorical_feature {
        for &f in features {
            *categorical.get_mut(f).ok_or_else(|| {
                syntax(Some(*line), None, format!("categorical_feature {f} is not one of the {n} features"))
            })? = true;
        }
    }
    Ok(categorical)
}

/// LightGBM's Python package stores one level list per pandas category column, in column order;
/// those columns are the model's categorical features.
fn assign_levels(
    categorical: &[bool],
    pandas: PandasCategorical,
) -> Result<Vec<Option<Vec<String>>>, ImportError> {
    let mut levels = alloc::vec![None; categorical.len()];
    let Some((line, lists)) = pandas else { return Ok(levels) };
    if lists.is_empty() {
        return Ok(levels);
    }
    let features: Vec<usize> = (0..categorical.len()).filter(|&f| categorical[f]).collect();
    if features.len() != lists.len() {
        return Err(unsupported(
            Some(line),
            None,
            format!(
                "pandas_categorical has {} level lists but the model has {} categorical features \
                 (category columns cannot be matched with their levels): retrain with the category \
                 columns as pandas `category` dtype, or import without pandas_categorical and send codes",
                lists.len(),
                features.len()
            ),
        ));
    }
    for (f, list) in features.into_iter().zip(lists) {
        levels[f] = Some(list);
    }
    Ok(levels)
}

/// Shortens echoed file content in error messages.
fn clip(s: &str) -> String {
    crate::schema::shorten(s, 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::ImportError;

    /// A small hand-written LightGBM 4.x model text: x0 (NaN splits), x1, zeros, cat (categories
    /// a-e).
    pub(crate) const EXAMPLE: &str = "tree
version=v4
num_class=1
num_tree_per_iteration=1
label_index=0
max_feature_idx=3
objective=binary sigmoid:1
feature_names=x0 x1 zeros cat
feature_infos=[-2.5:2.9] [-3:3] none -1:3:2:4:0:1
tree_sizes=1 1

Tree=0
num_leaves=4
num_cat=1
split_feature=0 3 0
split_gain=1 1 1
threshold=-0.41932778611191951 0 1.3030231682028919
decision_type=8 1 10
left_child=-1 -2 -3
right_child=1 2 -4
leaf_value=0.16563491701773872 0.39892972696493451 0.18921747205192935 0.39004504227637832
leaf_weight=1 1 1 1
leaf_count=10 20 30 40
internal_value=0 0 0
internal_weight=0 0 0
internal_count=100 90 70
cat_boundaries=0 1
cat_threshold=21
is_linear=0
shrinkage=1


Tree=1
num_leaves=1
num_cat=0
split_feature=
split_gain=
threshold=
decision_type=
left_child=
right_child=
leaf_value=-0.25
leaf_weight=
leaf_count=
internal_value=
internal_weight=
internal_count=
is_linear=0
shrinkage=0.1


end of trees

feature_importances:
x0=2

parameters:
[boosting: gbdt]
end of parameters

pandas_categorical:[[\"a\", \"b\", \"c\", \"d\", \"e\"]]
";

    #[test]
    fn format_versions_v2_to_v4_are_read_others_refused_with_a_remedy() {
        let base = parse(EXAMPLE).unwrap();
        for v in ["v2", "v3"] {
            let m = parse(&EXAMPLE.replace("version=v4", &format!("version={v}"))).unwrap();
            assert_eq!((m.ensemble, m.source), (base.ensemble.clone(), format!("lightgbm text model {v}")));
        }
        let e = parse(&EXAMPLE.replace("version=v4", "version=v1")).unwrap_err().to_string();
        assert!(e.contains("`v1`") && e.contains("save_model('model.txt')"), "{e}");
    }

    #[test]
    fn categorical_feature_parameter_names_unsplit_categories() {
        // `zeros` is a category with one level: no split, feature_infos `none`.
        let text = EXAMPLE.replace(
            "\nend of trees",
            "\nend of trees\n\nparameters:\n[categorical_feature: 2,3]\nend of parameters\n\n\
             pandas_categorical:[[\"only\"], [\"a\", \"b\", \"c\", \"d\", \"e\"]]",
        );
        let m = parse(&text).unwrap();
        assert_eq!(m.categorical, [false, false, true, true]);
        assert_eq!(m.categorical_levels[2].as_deref(), Some(&["only".to_string()][..]));
        let bad = text.replace("[categorical_feature: 2,3]", "[categorical_feature: 9]");
        assert!(parse(&bad).is_err());
    }

    #[test]
    fn parses_the_documented_example() {
        let m = parse(EXAMPLE).unwrap();
        assert_eq!(m.feature_names, ["x0", "x1", "zeros", "cat"]);
        assert_eq!(m.categorical_levels[3].as_deref().unwrap(), ["a", "b", "c", "d", "e"]);
        assert!(m.categorical_levels[0].is_none());
        let e = &m.ensemble;
        assert_eq!(e.trees.len(), 2);
        assert_eq!(e.trees[1].leaf_values, [-0.25]);
        // x0 NaN goes right (dt 8) to node 1; cat code 0 ('a') is in {0,2,4}: left -> leaf 1.
        assert_eq!(e.raw_score(&[f64::NAN, 0.0, 0.0, 0.0]), 0.398_929_726_964_934_5 - 0.25);
        // cat code 1 ('b') goes right to node 2; x0 NaN there goes left (dt 10) -> leaf 2.
        assert_eq!(e.raw_score(&[f64::NAN, 0.0, 0.0, 1.0]), 0.189_217_472_051_929_35 - 0.25);
        assert_eq!(e.raw_score(&[-0.419_327_786_111_919_5, 0.0, 0.0, 1.0]), 0.165_634_917_017_738_72 - 0.25);
        assert_eq!(e.trees[0].nodes[0].cover, 100.0);
        assert_eq!(e.trees[0].leaf_covers, [10.0, 20.0, 30.0, 40.0]);
    }

    #[test]
    fn rejects_what_is_not_supported() {
        let multi = EXAMPLE.replace("num_class=1", "num_class=3");
        assert!(matches!(parse(&multi), Err(ImportError::Unsupported { line: Some(3), .. })));
        let linear = EXAMPLE.replacen("is_linear=0", "is_linear=1", 1);
        let err = parse(&linear).unwrap_err();
        assert!(matches!(err, ImportError::Unsupported { tree: Some(0), .. }), "{err}");
        let rf = EXAMPLE.replace("tree_sizes=1 1", "average_output\ntree_sizes=1 1");
        assert!(matches!(parse(&rf), Err(ImportError::Unsupported { .. })));
        let objective = EXAMPLE.replace("binary sigmoid:1", "regression");
        assert!(parse(&objective).unwrap_err().to_string().contains("objective `regression`"));
    }

    #[test]
    fn reads_the_sigmoid_scale() {
        let m = parse(&EXAMPLE.replace("sigmoid:1", "sigmoid:0.5")).unwrap();
        assert_eq!(m.ensemble.link, Link::Sigmoid { scale: 0.5 });
    }

    #[test]
    fn malformed_text_names_line_and_tree() {
        let bad = EXAMPLE.replace("leaf_value=-0.25", "leaf_value=-0.25 1");
        let err = parse(&bad).unwrap_err();
        assert!(err.to_string().contains("(tree 1)"), "{err}");
        let bad = EXAMPLE.replace("split_feature=0 3 0", "split_feature=0 9 0");
        assert!(parse(&bad).unwrap_err().to_string().contains("feature 9"));
        let bad = EXAMPLE.replace("left_child=-1 -2 -3", "left_child=-1 0 -3");
        assert!(matches!(parse(&bad), Err(ImportError::Ensemble(_))));
        // Each array names the value type it wanted.
        let bad = EXAMPLE.replace("split_feature=0 3 0", "split_feature=0 x 0");
        assert!(parse(&bad).unwrap_err().to_string().contains("split_feature[1] = `x` is not an integer"));
        let bad = EXAMPLE.replace("threshold=-0.41932778611191951 0", "threshold=-0.41932778611191951 y");
        assert!(parse(&bad).unwrap_err().to_string().contains("threshold[1] = `y` is not a number"));
        assert!(parse("").is_err());
        assert!(parse("hello").is_err());
    }

    #[test]
    fn every_truncation_is_an_error_or_a_smaller_model() {
        for end in 0..EXAMPLE.len() {
            if EXAMPLE.is_char_boundary(end) {
                let _ = parse(&EXAMPLE[..end]);
            }
        }
        assert!(parse(&EXAMPLE[..EXAMPLE.find("end of trees").unwrap()]).is_err());
    }
    #[test]
    fn random_byte_edits_never_panic() {
        crate::import::random_byte_edits(EXAMPLE, |text| {
            let _ = parse(text);
        });
    }
}
