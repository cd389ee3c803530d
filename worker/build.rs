//! Chooses the model bundle compiled into the worker and checks that it loads:
//! 1. `CREDITSCORE_BUNDLE=path` if set;
//! 2. else `models/default.csb` (the trained default model, committed by the training pipeline);
//! 3. else, until that file exists, an interim fixture built here from core types. It is labelled
//!    as such in `/health` (`model.name` "interim-fixture") and the build prints a warning.

use std::path::{Path, PathBuf};

use creditscore_core::bundle::{Bundle, Metadata};
use creditscore_core::ensemble::{Arithmetic, Ensemble, Link, MissingType, Node, Split, Tree};
use creditscore_core::schema::{CategoricalSpec, InputField, InputKind, NumericSpec, Schema};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest.parent().expect("worker/ sits in the workspace root").to_path_buf();
    let models = root.join("models");
    let default = models.join("default.csb");
    println!("cargo:rerun-if-env-changed=CREDITSCORE_BUNDLE");
    println!("cargo:rerun-if-changed=build.rs");
    // Watch files that exist: a missing path would rerun this script (and rebuild the worker) on
    // every build. The models/ directory changes when default.csb appears.
    for watched in [&default, &models] {
        if watched.exists() {
            println!("cargo:rerun-if-changed={}", watched.display());
        }
    }

    let (bytes, origin) = match std::env::var_os("CREDITSCORE_BUNDLE") {
        Some(path) => {
            let path = PathBuf::from(path);
            println!("cargo:rerun-if-changed={}", path.display());
            (read(&path), path.display().to_string())
        }
        None if default.exists() => (read(&default), default.display().to_string()),
        None => {
            println!(
                "cargo:warning=models/default.csb does not exist yet: embedding the interim fixture bundle \
                 (not a trained model)"
            );
            (interim_fixture(), String::from("interim fixture (worker/build.rs)"))
        }
    };
    if let Err(e) = Bundle::from_bytes(&bytes) {
        panic!("the bundle from {origin} does not load: {e}");
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("bundle.csb");
    std::fs::write(&out, &bytes).unwrap_or_else(|e| panic!("writing {}: {e}", out.display()));
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("reading the bundle {}: {e}", path.display()))
}

fn numeric(name: &str, valid: (Option<f64>, Option<f64>), train: (f64, f64), example: f64) -> InputField {
    InputField {
        name: name.into(),
        required: true,
        nullable: name == "EXT_SOURCE_1" || name == "EXT_SOURCE_3",
        description: String::new(),
        kind: InputKind::Numeric(NumericSpec {
            integer: name.starts_with("DAYS"),
            valid_min: valid.0,
            valid_max: valid.1,
            train_min: Some(train.0),
            train_max: Some(train.1),
            sentinel: (name == "DAYS_EMPLOYED").then_some(365_243.0),
            unit: if name.starts_with("AMT") {
                "currency".into()
            } else if name.starts_with("DAYS") {
                "days relative to the application (negative = before)".into()
            } else {
                "normalised score".into()
            },
            example: Some(example),
            ..Default::default()
        }),
    }
}

fn categorical(name: &str, levels: &[&str], aliases: &[(&str, &str)], required: bool) -> InputField {
    InputField {
        name: name.into(),
        required,
        nullable: false,
        description: String::new(),
        kind: InputKind::Categorical(CategoricalSpec {
            levels: levels.iter().map(|l| l.to_string()).collect(),
            aliases: aliases.iter().map(|(a, l)| (a.to_string(), l.to_string())).collect(),
            default: (!required).then(|| levels[0].to_string()),
            example: Some(levels[0].into()),
            ..Default::default()
        }),
    }
}

/// A small hand-written ensemble over the ten required inputs of the default model, so the
/// endpoint is complete before the trained bundle lands. Not a trained model.
fn interim_fixture() -> Vec<u8> {
    let unit = (Some(0.0), Some(1.0));
    let amount = (Some(0.0), None);
    let days = (None, Some(0.0));
    let inputs = vec![
        numeric("EXT_SOURCE_1", unit, (0.0146, 0.9511), 0.45),
        numeric("EXT_SOURCE_2", unit, (0.0001, 0.855), 0.61),
        numeric("EXT_SOURCE_3", unit, (0.0005, 0.896), 0.75),
        numeric("AMT_ANNUITY", amount, (1_615.5, 258_025.5), 24_700.5),
        numeric("AMT_CREDIT", amount, (45_000.0, 4_050_000.0), 406_597.5),
        numeric("AMT_GOODS_PRICE", amount, (40_500.0, 4_050_000.0), 351_000.0),
        numeric("DAYS_BIRTH", days, (-25_229.0, -7_489.0), -9_461.0),
        numeric("DAYS_EMPLOYED", days, (-17_912.0, 0.0), -637.0),
        categorical("CODE_GENDER", &["F", "M"], &[], true),
        categorical("FLAG_OWN_CAR", &["N", "Y"], &[("No", "N"), ("Yes", "Y")], true),
    ];
    let names: Vec<String> = inputs.iter().map(|f| f.name.clone()).collect();
    let schema = Schema::new("SK_ID_CURR".into(), true, inputs, vec![], names).expect("fixture schema");
    let le = |feature: u32, threshold: f64, left: i32, right: i32, cover: f64| Node {
        feature,
        split: Split::LessOrEqual { threshold, missing: MissingType::NaN, default_left: true },
        left,
        right,
        cover,
    };
    let leaf = |values: &[f64], covers: &[f64]| (values.to_vec(), covers.to_vec());
    let tree = |nodes: Vec<Node>, (leaf_values, leaf_covers): (Vec<f64>, Vec<f64>), cat_words: Vec<u32>| {
        Tree { nodes, leaf_values, leaf_covers, cat_words }
    };
    let trees = vec![
        tree(
            vec![le(1, 0.45, 1, 2, 1000.0), le(2, 0.35, -1, -2, 400.0), le(0, 0.5, -3, -4, 600.0)],
            leaf(&[0.9, 0.3, 0.0, -0.5], &[150.0, 250.0, 250.0, 350.0]),
            vec![],
        ),
        tree(
            vec![le(6, -16_000.0, -1, 1, 1000.0), le(7, -1_500.0, -2, -3, 700.0)],
            leaf(&[-0.3, -0.1, 0.25], &[300.0, 350.0, 350.0]),
            vec![],
        ),
        tree(
            vec![
                le(4, 600_000.0, 1, -3, 1000.0),
                Node {
                    feature: 9,
                    split: Split::Categorical {
                        bitset_start: 0,
                        bitset_len: 1,
                        in_set_left: true,
                        default_left: false,
                    },
                    left: -1,
                    right: -2,
                    cover: 700.0,
                },
            ],
            leaf(&[-0.15, 0.1, 0.2], &[250.0, 450.0, 300.0]),
            vec![0b10],
        ),
        tree(
            vec![le(3, 30_000.0, 1, -3, 1000.0), le(8, 0.5, -1, -2, 750.0)],
            leaf(&[-0.1, 0.12, 0.3], &[480.0, 270.0, 250.0]),
            vec![],
        ),
    ];
    let mut bundle = Bundle {
        meta: Metadata {
            name: "interim-fixture".into(),
            version: "interim-fixture-1".into(),
            created: "2026-11-27T00:00:00Z".into(),
            source: "hand-written fixture (worker/build.rs), not trained".into(),
            ..Default::default()
        },
        schema,
        ensemble: Ensemble {
            num_features: 10,
            trees,
            base_score: -2.4,
            arithmetic: Arithmetic::F64,
            link: Link::Sigmoid { scale: 1.0 },
            zero_small_inputs: false,
        },
        threshold: 0.1,
        selection: None,
        reference: None,
        sha256: String::new(),
    };
    bundle.to_bytes().expect("fixture bundle encodes")
}
