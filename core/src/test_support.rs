//! Test support shared by the tests of every crate: hand-built inputs, tree nodes and bundles,
//! and the repository's fixture files, so that each is written once.
//!
//! Compiled for core's own unit tests and, through the `test-support` feature, for the other
//! crates' dev-dependencies (`creditscore-core = { features = ["test-support"] }`); never part of
//! a product build. It needs `std` for file access (the feature turns `std` on).

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use std::path::PathBuf;

use crate::bundle::{Bundle, BundleSpec, FeatureScore, FeatureSelection, Metadata};
use crate::ensemble::{Arithmetic, Ensemble, Link, MissingType, Node, Split, Tree};
use crate::schema::{CategoricalSpec, InputField, InputKind, NumericSpec, Schema};

/// A numeric input with the given validation spec and no description.
pub fn numeric_input(name: &str, required: bool, nullable: bool, spec: NumericSpec) -> InputField {
    InputField {
        name: name.into(),
        required,
        nullable,
        description: String::new(),
        kind: InputKind::Numeric(spec),
    }
}

/// A categorical input with the given spec and no description.
pub fn categorical_input(name: &str, required: bool, nullable: bool, spec: CategoricalSpec) -> InputField {
    InputField {
        name: name.into(),
        required,
        nullable,
        description: String::new(),
        kind: InputKind::Categorical(spec),
    }
}

/// Owned level names, in code order.
pub fn levels(names: &[&str]) -> Vec<String> {
    names.iter().map(|l| l.to_string()).collect()
}

/// Owned alias table: spelling -> level.
pub fn aliases(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(a, l)| (a.to_string(), l.to_string())).collect()
}

/// A numeric split `x[feature] <= threshold` with NaN as the missing value. `left` / `right`
/// are node indices (>= 0) or `!leaf` (< 0), as in [`Node`]; `cover` is the training weight.
pub fn split_le(feature: u32, threshold: f64, default_left: bool, left: i32, right: i32, cover: f64) -> Node {
    Node {
        feature,
        split: Split::LessOrEqual { threshold, missing: MissingType::NaN, default_left },
        left,
        right,
        cover,
    }
}

/// A categorical split on the tree's first bitset word (`cat_words[0]`): a level whose bit is
/// set goes left; other levels and missing go right.
pub fn split_in_set(feature: u32, left: i32, right: i32, cover: f64) -> Node {
    Node {
        feature,
        split: Split::Categorical {
            bitset_start: 0,
            bitset_len: 1,
            in_set_left: true,
            default_left: false,
            strict_codes: false,
        },
        left,
        right,
        cover,
    }
}

/// The two inputs of the sample bundle: `x` numeric (required, spec `x`) and `c` categorical
/// with levels `a`, `b` (optional); identifier `SK_ID_CURR`, features `[x, c]`.
pub fn sample_schema(x: NumericSpec) -> Schema {
    let inputs = vec![
        numeric_input("x", true, false, x),
        categorical_input(
            "c",
            false,
            false,
            CategoricalSpec { levels: levels(&["a", "b"]), ..Default::default() },
        ),
    ];
    Schema::new("SK_ID_CURR".into(), true, inputs, vec![], vec!["x".into(), "c".into()])
        .expect("the sample schema is valid")
}

/// `x <= 0.5 (missing left) ? (c == "b" ? -1.0 : 0.5) : 2.0`, covers 2 / 4 / 4.
pub fn sample_tree() -> Tree {
    Tree {
        nodes: vec![split_le(0, 0.5, true, 1, -3, 10.0), split_in_set(1, -1, -2, 6.0)],
        leaf_values: vec![-1.0, 0.5, 2.0],
        leaf_covers: vec![2.0, 4.0, 4.0],
        cat_words: vec![0b10],
    }
}

/// The sample bundle (name "sample", version "1", threshold 0.4, sigmoid link, f64 sums) over
/// [`sample_schema`] with the given `x` spec and trees.
pub fn sample_bundle_with(x: NumericSpec, trees: Vec<Tree>) -> Bundle {
    let spec = BundleSpec {
        meta: Metadata { name: "sample".into(), version: "1".into(), ..Default::default() },
        schema: sample_schema(x).spec().clone(),
        threshold: 0.4,
        selection: None,
        reference: None,
    };
    let ensemble = Ensemble {
        num_features: 2,
        trees,
        base_score: 0.0,
        arithmetic: Arithmetic::F64,
        link: Link::Sigmoid { scale: 1.0 },
        zero_small_inputs: true,
    };
    Bundle::new(spec, ensemble).expect("the sample bundle is valid")
}

/// A small but complete bundle: [`sample_tree`] plus a constant tree of 0.25, `x` unbounded.
pub fn sample_bundle() -> Bundle {
    let constant =
        Tree { nodes: vec![], leaf_values: vec![0.25], leaf_covers: vec![10.0], cat_words: vec![] };
    sample_bundle_with(NumericSpec::default(), vec![sample_tree(), constant])
}

/// A bundle shaped like the default model: the ten required Home Credit inputs (EXT_SOURCE_1
/// nullable, DAYS_EMPLOYED with the 365243 sentinel), one optional input, three small trees
/// reading EXT_SOURCE_2/3, AMT_CREDIT, CODE_GENDER and DAYS_BIRTH; base score -2, threshold 0.12.
/// Returned through the file format, as the worker loads it.
pub fn home_credit_bundle() -> Bundle {
    let numeric = |name: &str, valid: (Option<f64>, Option<f64>), train: (f64, f64), example: f64| {
        let spec = NumericSpec {
            integer: name.starts_with("DAYS"),
            valid_min: valid.0,
            valid_max: valid.1,
            train_min: Some(train.0),
            train_max: Some(train.1),
            sentinel: (name == "DAYS_EMPLOYED").then_some(365_243.0),
            example: Some(example),
            ..Default::default()
        };
        numeric_input(name, true, name == "EXT_SOURCE_1", spec)
    };
    let categorical = |name: &str, names: &[&str], required: bool| {
        let spec = CategoricalSpec {
            levels: levels(names),
            default: (!required).then(|| names[0].to_string()),
            example: Some(names[0].into()),
            ..Default::default()
        };
        categorical_input(name, required, false, spec)
    };
    let unit = (Some(0.0), Some(1.0));
    let amount = (Some(0.0), None);
    let inputs = vec![
        numeric("EXT_SOURCE_1", unit, (0.01, 0.95), 0.45),
        numeric("EXT_SOURCE_2", unit, (0.01, 0.85), 0.61),
        numeric("EXT_SOURCE_3", unit, (0.01, 0.9), 0.75),
        numeric("AMT_ANNUITY", amount, (1_600.0, 260_000.0), 24_700.5),
        numeric("AMT_CREDIT", amount, (45_000.0, 4_050_000.0), 406_597.5),
        numeric("AMT_GOODS_PRICE", amount, (40_000.0, 4_050_000.0), 351_000.0),
        numeric("DAYS_BIRTH", (None, Some(0.0)), (-25_229.0, -7_489.0), -9_461.0),
        numeric("DAYS_EMPLOYED", (None, Some(0.0)), (-17_912.0, 0.0), -637.0),
        categorical("CODE_GENDER", &["F", "M"], true),
        categorical("FLAG_OWN_CAR", &["N", "Y"], true),
        categorical("NAME_CONTRACT_TYPE", &["Cash loans", "Revolving loans"], false),
    ];
    let names: Vec<String> = inputs.iter().map(|f| f.name.clone()).collect();
    let schema = Schema::new("SK_ID_CURR".into(), true, inputs, vec![], names).expect("valid schema");
    let split = |feature: u32, threshold: f64, left: i32, right: i32| {
        split_le(feature, threshold, true, left, right, 100.0)
    };
    let trees = vec![
        // EXT_SOURCE_2 then EXT_SOURCE_3.
        Tree {
            nodes: vec![split(1, 0.5, 1, -3), split(2, 0.4, -1, -2)],
            leaf_values: vec![0.8, 0.1, -0.6],
            leaf_covers: vec![30.0, 30.0, 40.0],
            cat_words: vec![],
        },
        // Credit amount, then gender (category M = code 1 in the set goes left).
        Tree {
            nodes: vec![split(4, 500_000.0, -1, 1), split_in_set(8, -2, -3, 50.0)],
            leaf_values: vec![-0.2, 0.3, 0.1],
            leaf_covers: vec![50.0, 20.0, 30.0],
            cat_words: vec![0b10],
        },
        Tree {
            nodes: vec![split(6, -15_000.0, -1, -2)],
            leaf_values: vec![-0.1, 0.2],
            leaf_covers: vec![40.0, 60.0],
            cat_words: vec![],
        },
    ];
    let spec = BundleSpec {
        meta: Metadata { name: "service-test".into(), version: "test-1".into(), ..Default::default() },
        schema: schema.spec().clone(),
        threshold: 0.12,
        selection: Some(FeatureSelection {
            method: "correlation".into(),
            top_n: 8,
            min_corr: 0.02,
            scores: vec![FeatureScore { feature: "EXT_SOURCE_2".into(), score: 0.16 }],
            selected: vec!["EXT_SOURCE_2".into()],
        }),
        reference: None,
    };
    let ensemble = Ensemble {
        num_features: 11,
        trees,
        base_score: -2.0,
        arithmetic: Arithmetic::F64,
        link: Link::Sigmoid { scale: 1.0 },
        zero_small_inputs: false,
    };
    let mut b = Bundle::new(spec, ensemble).expect("the bundle is valid");
    let bytes = b.to_bytes().expect("the bundle serialises");
    Bundle::from_bytes(&bytes).expect("the bundle reads back")
}

/// Absolute path of a file of the repository, from a path relative to its root (the parent of
/// core/). Test fixtures are read at run time through this one function, so that no crate
/// reaches into another with `include_str!("../../..")`.
pub fn repo_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(relative)
}

/// The text of a repository file (see [`repo_path`]). Panics with the path when it is missing:
/// a test fixture that is not there is a broken checkout.
pub fn repo_text(relative: &str) -> String {
    let path = repo_path(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The bytes of a repository file (see [`repo_path`]).
pub fn repo_bytes(relative: &str) -> Vec<u8> {
    let path = repo_path(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The example clients of the original system's README (`tests/fixtures/readme_clients.json`,
/// shared with the JS and Python tests): the single-request client first, then the second client
/// of the batch example. Each is a JSON object with the ten required inputs and `SK_ID_CURR`.
pub fn readme_clients() -> Vec<serde_json::Value> {
    let doc: serde_json::Value =
        serde_json::from_str(&repo_text("tests/fixtures/readme_clients.json")).expect("fixture is JSON");
    match doc.get("clients") {
        Some(serde_json::Value::Array(clients)) => clients.clone(),
        _ => panic!("tests/fixtures/readme_clients.json: no `clients` array"),
    }
}
