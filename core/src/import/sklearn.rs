//! scikit-learn `HistGradientBoostingClassifier` (binary), exported by the training pipeline as
//! JSON format `creditscore-sklearn-hgb` version 1 (train/creditscore_train/sklearn_export.py).
//!
//! scikit-learn 1.9.1 scores in f64: NaN takes `missing_left`; a numeric value goes left when
//! `x <= threshold`; a categorical value goes left when its category is in the node's left set,
//! right when it is another known category, and an unknown category follows `missing_left`. The
//! raw score is the baseline plus each tree's leaf value in order; probability = sigmoid(raw).
//!
//! Categories: a column fitted as integer codes (JSON numbers) keeps its codes, so the bundle's
//! category codes are the values themselves (0..=255, scikit-learn's limit); a column fitted as
//! pandas categories (JSON strings) is coded by position in that list, which becomes the feature's
//! levels. scikit-learn 1.9.1 encodes categorical columns with `OrdinalEncoder(handle_unknown=
//! 'use_encoded_value', unknown_value=nan)` before its trees see them, so any value that is not
//! exactly a known category (negative codes such as pandas' -1, non-integers such as 2.5, codes
//! >= 256, 1e9) is missing and follows `missing_left`: the splits carry `strict_codes`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde::Deserialize;

use super::{ImportError, ImportedModel};
use crate::bundle::Iterations;
use crate::ensemble::{Arithmetic, Ensemble, Link, MissingType, Node, Split, Tree};

/// The `format` value of the JSON that train/creditscore_train/sklearn_export.py writes for a
/// `HistGradientBoostingClassifier`.
pub const FORMAT: &str = "creditscore-sklearn-hgb";
/// The `format_version` this importer reads; any other is refused.
pub const FORMAT_VERSION: u32 = 1;
/// scikit-learn bins categories into at most 255 (+ missing) bins: codes are below 256.
const CATEGORY_CODES: usize = 256;
const CATEGORY_WORDS: usize = CATEGORY_CODES / 32;

#[derive(Deserialize)]
struct ModelJson {
    format: String,
    format_version: u32,
    #[serde(default)]
    sklearn_version: String,
    loss: String,
    feature_names: Vec<String>,
    baseline: String,
    categories: Vec<Option<Vec<CategoryValue>>>,
    trees: Vec<TreeJson>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum CategoryValue {
    Number(f64),
    Label(String),
}

#[derive(Deserialize)]
struct TreeJson {
    value: Vec<String>,
    count: Vec<f64>,
    feature: Vec<u32>,
    threshold: Vec<String>,
    missing_left: Vec<bool>,
    left: Vec<u32>,
    right: Vec<u32>,
    is_leaf: Vec<bool>,
    is_categorical: Vec<bool>,
    left_categories: Vec<Option<Vec<u32>>>,
}

/// How a categorical feature's categories map to bundle codes.
enum Coding {
    /// Integer-coded column: category index e is the code `codes[e]` (< 256).
    Codes(Vec<u32>),
    /// Pandas categories: category index e is code e.
    Labels(usize),
}

fn syntax(tree: Option<usize>, message: String) -> ImportError {
    ImportError::Syntax { line: None, tree, message }
}

fn unsupported(what: String) -> ImportError {
    ImportError::Unsupported { line: None, tree: None, what }
}

fn float(text: &str, tree: Option<usize>, what: &str) -> Result<f64, ImportError> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(syntax(tree, format!("{what} `{text}` is not a finite number"))),
    }
}

/// Parses the JSON text of an exported HistGradientBoostingClassifier.
pub fn parse(json: &str) -> Result<ImportedModel, ImportError> {
    let model: ModelJson = serde_json::from_str(json).map_err(|e| ImportError::Syntax {
        line: Some(e.line()),
        tree: None,
        message: format!("not a {FORMAT} JSON model: {e}"),
    })?;
    if model.format != FORMAT {
        return Err(syntax(None, format!("format `{}` is not `{FORMAT}`", model.format)));
    }
    if model.format_version != FORMAT_VERSION {
        return Err(unsupported(format!(
            "format version {} (this build reads {FORMAT_VERSION})",
            model.format_version
        )));
    }
    if model.loss != "log_loss" {
        return Err(unsupported(format!(
            "loss `{}`: only binary `log_loss` is scored (a binary HistGradientBoostingClassifier)",
            model.loss
        )));
    }
    let num_features = model.feature_names.len();
    for (i, name) in model.feature_names.iter().enumerate() {
        if name.is_empty() || model.feature_names[..i].contains(name) {
            return Err(syntax(None, format!("feature name `{name}` is empty or appears twice")));
        }
    }
    if model.categories.len() != num_features {
        return Err(syntax(
            None,
            format!("categories has {} entries for {num_features} features", model.categories.len()),
        ));
    }
    let mut codings: Vec<Option<Coding>> = Vec::with_capacity(num_features);
    let mut categorical_levels = Vec::with_capacity(num_features);
    for (f, cats) in model.categories.iter().enumerate() {
        let name = &model.feature_names[f];
        let Some(cats) = cats else {
            codings.push(None);
            categorical_levels.push(None);
            continue;
        };
        if cats.len() > CATEGORY_CODES {
            return Err(unsupported(format!("`{name}` has {} categories (at most 256)", cats.len())));
        }
        let numbers: Option<Vec<u32>> = cats
            .iter()
            .map(|c| match c {
                CategoryValue::Number(v)
                    if *v == libm::trunc(*v) && (0.0..CATEGORY_CODES as f64).contains(v) =>
                {
                    Some(*v as u32)
                }
                _ => None,
            })
            .collect();
        let labels: Option<Vec<String>> = cats
            .iter()
            .map(|c| match c {
                CategoryValue::Label(s) => Some(s.clone()),
                CategoryValue::Number(_) => None,
            })
            .collect();
        match (numbers, labels) {
            (Some(codes), _) => {
                codings.push(Some(Coding::Codes(codes)));
                categorical_levels.push(None);
            }
            (None, Some(labels)) => {
                codings.push(Some(Coding::Labels(labels.len())));
                categorical_levels.push(Some(labels));
            }
            (None, None) => {
                return Err(unsupported(format!(
                    "`{name}`: categories must be all strings or all integer codes in 0..256"
                )));
            }
        }
    }
    let baseline = float(&model.baseline, None, "baseline")?;
    if model.trees.is_empty() {
        return Err(syntax(None, "the model has no trees".into()));
    }
    let mut trees = Vec::with_capacity(model.trees.len());
    for (t, tree) in model.trees.iter().enumerate() {
        trees.push(convert_tree(tree, t, num_features, &codings)?);
    }
    let ensemble = Ensemble {
        num_features,
        trees,
        base_score: baseline,
        arithmetic: Arithmetic::F64,
        link: Link::Sigmoid { scale: 1.0 },
        zero_small_inputs: false,
    };
    ensemble.validate().map_err(ImportError::Ensemble)?;
    let version = if model.sklearn_version.is_empty() { "(unknown version)" } else { &model.sklearn_version };
    // scikit-learn keeps every iteration it fitted (early stopping ends the fit; predict uses
    // all of `_predictors`).
    let iterations = Iterations {
        used: model.trees.len() as u64,
        in_file: model.trees.len() as u64,
        best_iteration: None,
        rule: "all".into(),
    };
    Ok(ImportedModel {
        ensemble,
        feature_names: model.feature_names,
        categorical_levels,
        source: format!("scikit-learn {version} HistGradientBoostingClassifier"),
        categorical: codings.iter().map(Option::is_some).collect(),
        iterations,
    })
}

/// Renumbers scikit-learn's node array (leaves and splits mixed) into the core layout: internal
/// nodes in depth-first order (children after parents) and leaves in visiting order.
fn convert_tree(
    tree: &TreeJson,
    t: usize,
    num_features: usize,
    codings: &[Option<Coding>],
) -> Result<Tree, ImportError> {
    let n = tree.value.len();
    let err = |message: String| syntax(Some(t), message);
    if n == 0 {
        return Err(err("tree has no nodes".into()));
    }
    let lengths = [
        tree.count.len(),
        tree.feature.len(),
        tree.threshold.len(),
        tree.missing_left.len(),
        tree.left.len(),
        tree.right.len(),
        tree.is_leaf.len(),
        tree.is_categorical.len(),
        tree.left_categories.len(),
    ];
    if lengths.iter().any(|&l| l != n) {
        return Err(err(format!("node arrays differ in length (value has {n} entries)")));
    }
    let mut out = Tree::default();
    if tree.is_leaf[0] {
        out.leaf_values.push(float(&tree.value[0], Some(t), "leaf value")?);
        out.leaf_covers.push(tree.count[0]);
        return Ok(out);
    }
    // (source node, parent internal index, is left child); the root has no parent.
    let mut visited = alloc::vec![false; n];
    let mut stack: Vec<(usize, Option<(usize, bool)>)> = alloc::vec![(0, None)];
    while let Some((src, parent)) = stack.pop() {
        if src >= n || visited[src] {
            return Err(err(format!("node {src} is out of range or reached twice")));
        }
        visited[src] = true;
        let child_ref = if tree.is_leaf[src] {
            let leaf = out.leaf_values.len();
            out.leaf_values.push(float(&tree.value[src], Some(t), "leaf value")?);
            out.leaf_covers.push(tree.count[src]);
            !(leaf as i32)
        } else {
            let index = out.nodes.len();
            let feature = tree.feature[src] as usize;
            if feature >= num_features {
                return Err(err(format!("node {src} splits on feature {feature} of {num_features}")));
            }
            let default_left = tree.missing_left[src];
            let split = if tree.is_categorical[src] {
                let Some(coding) = &codings[feature] else {
                    return Err(err(format!(
                        "node {src} is categorical but feature {feature} has no categories"
                    )));
                };
                let Some(left) = &tree.left_categories[src] else {
                    return Err(err(format!("categorical node {src} has no left_categories")));
                };
                let words = left_set_words(coding, left, default_left)
                    .map_err(|c| err(format!("node {src}: category index {c} is not a known category")))?;
                let bitset_start = out.cat_words.len() as u32;
                let bitset_len = words.len() as u32;
                out.cat_words.extend_from_slice(&words);
                // Values that are not a known category are missing for scikit-learn.
                Split::Categorical {
                    bitset_start,
                    bitset_len,
                    in_set_left: true,
                    default_left,
                    strict_codes: true,
                }
            } else {
                // +inf splits "every value left, missing right": allowed, NaN is not.
                let threshold = match tree.threshold[src].trim().parse::<f64>() {
                    Ok(v) if !v.is_nan() => v,
                    _ => {
                        return Err(err(format!(
                            "node {src}: threshold `{}` is not a number",
                            tree.threshold[src]
                        )));
                    }
                };
                // scikit-learn never turns NaN into a value: NaN always takes the missing side.
                Split::LessOrEqual { threshold, missing: MissingType::NaN, default_left }
            };
            out.nodes.push(Node {
                feature: feature as u32,
                split,
                left: 0,
                right: 0,
                cover: tree.count[src],
            });
            // Right pushed first so the left subtree is numbered first.
            stack.push((tree.right[src] as usize, Some((index, false))));
            stack.push((tree.left[src] as usize, Some((index, true))));
            index as i32
        };
        if let Some((p, is_left)) = parent {
            if is_left {
                out.nodes[p].left = child_ref;
            } else {
                out.nodes[p].right = child_ref;
            }
        }
    }
    Ok(out)
}

fn set(words: &mut [u32], code: u32) {
    words[(code / 32) as usize] |= 1 << (code % 32);
}

/// Bitset (over bundle codes) of the categories that go left. Unknown categories follow the
/// missing side, as scikit-learn treats them as missing.
fn left_set_words(coding: &Coding, left: &[u32], missing_left: bool) -> Result<Vec<u32>, u32> {
    match coding {
        Coding::Codes(codes) => {
            let mut words = alloc::vec![0u32; CATEGORY_WORDS];
            if missing_left {
                let mut known = [false; CATEGORY_CODES];
                for &c in codes {
                    known[c as usize] = true;
                }
                for code in 0..CATEGORY_CODES as u32 {
                    if !known[code as usize] {
                        set(&mut words, code);
                    }
                }
            }
            for &e in left {
                let code = *codes.get(e as usize).ok_or(e)?;
                set(&mut words, code);
            }
            Ok(words)
        }
        Coding::Labels(count) => {
            let mut words = alloc::vec![0u32; count.div_ceil(32).max(1)];
            for &e in left {
                if e as usize >= *count {
                    return Err(e);
                }
                set(&mut words, e);
            }
            Ok(words)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::repo_text;
    use alloc::string::ToString;

    /// x0 <= 0.5 (missing left) -> leaf -1.0; else cat in {code 2} (missing right) -> 0.5 / 2.0.
    /// Categories of `cat` are integer codes [0, 2, 3]: code 1 and codes >= 4 are unknown.
    const EXAMPLE: &str = r#"{"format":"creditscore-sklearn-hgb","format_version":1,"sklearn_version":"1.9.1",
      "loss":"log_loss","feature_names":["x0","cat"],"baseline":"-0.25","categories":[null,[0,2,3]],
      "trees":[{"value":["0.0","-1.0","0.0","0.5","2.0"],"count":[10,4,6,2,4],"feature":[0,0,1,0,0],
        "threshold":["0.5","0.0","0.0","0.0","0.0"],"missing_left":[true,false,false,false,false],
        "left":[1,0,3,0,0],"right":[2,0,4,0,0],"is_leaf":[false,true,false,true,true],
        "is_categorical":[false,false,true,false,false],"left_categories":[null,null,[1],null,null]},
       {"value":["0.125"],"count":[10],"feature":[0],"threshold":["0.0"],"missing_left":[false],
        "left":[0],"right":[0],"is_leaf":[true],"is_categorical":[false],"left_categories":[null]}]}"#;

    #[test]
    fn parses_and_scores_the_documented_rules() {
        let m = parse(EXAMPLE).unwrap();
        assert_eq!(m.feature_names, ["x0", "cat"]);
        assert_eq!(m.categorical_levels, [None, None]);
        let e = &m.ensemble;
        assert_eq!(e.raw_score(&[0.5, 2.0]), -0.25 + -1.0 + 0.125, "x <= threshold goes left");
        assert_eq!(e.raw_score(&[f64::NAN, 2.0]), -0.25 + -1.0 + 0.125, "NaN goes to missing_left");
        assert_eq!(e.raw_score(&[0.6, 2.0]), -0.25 + 0.5 + 0.125, "category index 1 = code 2 goes left");
        assert_eq!(e.raw_score(&[0.6, 3.0]), -0.25 + 2.0 + 0.125, "known category not in set: right");
        assert_eq!(e.raw_score(&[0.6, 1.0]), -0.25 + 2.0 + 0.125, "unknown code follows missing (right)");
        assert_eq!(e.raw_score(&[0.6, f64::NAN]), -0.25 + 2.0 + 0.125);
        assert_eq!(e.trees[0].nodes[1].cover, 6.0);
    }

    #[test]
    fn unknown_categories_follow_missing_left() {
        let text = EXAMPLE.replace(
            r#""missing_left":[true,false,false,false,false]"#,
            r#""missing_left":[true,false,true,false,false]"#,
        );
        let e = parse(&text).unwrap().ensemble;
        assert_eq!(e.raw_score(&[0.6, 1.0]), -0.25 + 0.5 + 0.125, "unknown code 1 goes left");
        assert_eq!(e.raw_score(&[0.6, 200.0]), -0.25 + 0.5 + 0.125);
        assert_eq!(e.raw_score(&[0.6, 3.0]), -0.25 + 2.0 + 0.125);
    }

    #[test]
    fn labelled_categories_become_levels() {
        let text = EXAMPLE.replace("[null,[0,2,3]]", r#"[null,["a","b","c"]]"#);
        let m = parse(&text).unwrap();
        assert_eq!(m.categorical_levels[1].as_deref().unwrap(), ["a", "b", "c"]);
        assert_eq!(m.ensemble.raw_score(&[0.6, 1.0]), -0.25 + 0.5 + 0.125, "index 1 = b goes left");
    }

    #[test]
    fn malformed_models_are_errors_not_panics() {
        let cases = [
            EXAMPLE.replace(r#""left":[1,0,3,0,0]"#, r#""left":[9,0,3,0,0]"#),
            EXAMPLE.replace(r#""left":[1,0,3,0,0]"#, r#""left":[0,0,3,0,0]"#),
            EXAMPLE.replace(r#""feature":[0,0,1,0,0]"#, r#""feature":[0,0,7,0,0]"#),
            EXAMPLE.replace(
                r#""left_categories":[null,null,[1],null,null]"#,
                r#""left_categories":[null,null,[5],null,null]"#,
            ),
            EXAMPLE.replace(r#""baseline":"-0.25""#, r#""baseline":"nan""#),
            EXAMPLE.replace(r#""count":[10,4,6,2,4]"#, r#""count":[10,4]"#),
            EXAMPLE.replace(r#""loss":"log_loss""#, r#""loss":"squared_error""#),
            EXAMPLE.replace("[null,[0,2,3]]", "[null,[0,2,300]]"),
            EXAMPLE.replace(r#""format_version":1"#, r#""format_version":2"#),
            String::from("{}"),
            String::from("not json"),
        ];
        for (i, text) in cases.iter().enumerate() {
            assert!(parse(text).is_err(), "case {i} should be rejected");
        }
        for len in 0..EXAMPLE.len() {
            if EXAMPLE.is_char_boundary(len) {
                let _ = parse(&EXAMPLE[..len]);
            }
        }
    }
    /// Parity with scikit-learn 1.9.1 on the committed fixtures
    /// (train/fixtures/gen_sklearn_fixtures.py): raw scores and probabilities to 1e-12.
    #[derive(Deserialize)]
    struct Fixture {
        model: serde_json::Value,
        features: Vec<String>,
        rows: Vec<Vec<Option<String>>>,
        raw: Vec<String>,
        proba: Vec<String>,
    }

    fn check_fixture(name: &str, text: &str) {
        let fixture: Fixture = serde_json::from_str(text).unwrap();
        let model = parse(&fixture.model.to_string()).unwrap();
        assert_eq!(model.feature_names, fixture.features, "{name}");
        let e = &model.ensemble;
        for (i, row) in fixture.rows.iter().enumerate() {
            let row: Vec<f64> =
                row.iter().map(|v| v.as_deref().map_or(f64::NAN, |s| s.parse().unwrap())).collect();
            let raw = e.raw_score(&row);
            let want_raw: f64 = fixture.raw[i].parse().unwrap();
            let want_proba: f64 = fixture.proba[i].parse().unwrap();
            assert!((raw - want_raw).abs() <= 1e-12, "{name} row {i}: raw {raw} != {want_raw}");
            let proba = e.probability(raw);
            assert!((proba - want_proba).abs() <= 1e-12, "{name} row {i}: proba {proba} != {want_proba}");
        }
        assert!(fixture.rows.len() > 300, "{name}: fixture has edge rows");
        let mut batch = Vec::new();
        let flat: Vec<f64> = fixture
            .rows
            .iter()
            .flat_map(|r| r.iter().map(|v| v.as_deref().map_or(f64::NAN, |s| s.parse().unwrap())))
            .collect();
        e.raw_scores(&flat, &mut batch);
        for (i, raw) in batch.iter().enumerate() {
            assert_eq!(*raw, e.raw_score(&flat[i * e.num_features..(i + 1) * e.num_features]));
        }
    }

    #[test]
    fn parity_numeric_with_missing_values() {
        check_fixture("numeric", &repo_text("train/fixtures/sklearn/numeric.json"));
    }

    #[test]
    fn parity_integer_coded_categories_with_unseen_codes() {
        check_fixture("categorical_codes", &repo_text("train/fixtures/sklearn/categorical_codes.json"));
    }

    #[test]
    fn parity_pandas_categories_reordered_first() {
        let text = repo_text("train/fixtures/sklearn/pandas_categorical.json");
        check_fixture("pandas_categorical", &text);
        let fixture: Fixture = serde_json::from_str(&text).unwrap();
        let model = parse(&fixture.model.to_string()).unwrap();
        assert_eq!(model.categorical_levels[1].as_deref().unwrap(), ["a", "b", "c", "d", "e"]);
    }
}
