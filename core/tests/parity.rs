//! Parity with the libraries: each fixture of tests/parity (made by gen_fixtures.py with the pinned
//! lightgbm / xgboost) is imported, its rows go through the CLI's path (CSV cells -> schema ->
//! features -> bundle), and raw scores, probabilities and SHAP values are compared with what the
//! library itself returned. No Python needed: the library outputs are committed.

use std::path::PathBuf;

use creditscore_core::import::{self, ImportOptions, ImportedModel};
use creditscore_core::schema::RawValue;
use creditscore_core::{Bundle, CompiledModel, shap};

struct Tolerance {
    score: f64,
    shap: f64,
}

const LIGHTGBM: Tolerance = Tolerance { score: 1e-12, shap: 1e-9 };
const XGBOOST: Tolerance = Tolerance { score: 1e-6, shap: 1e-5 };

fn fixture_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/parity").join(name)
}

/// Imports a fixture's model.txt (LightGBM, names starting with `lgbm`) or model.json (XGBoost).
fn import_fixture(name: &str, options: &ImportOptions) -> ImportedModel {
    let dir = fixture_dir(name);
    let lightgbm = name.rsplit('/').next().is_some_and(|n| n.starts_with("lgbm"));
    let imported = if lightgbm {
        import::lightgbm::parse(&read(&dir.join("model.txt")))
    } else {
        let path = dir.join("model.json");
        import::xgboost::parse_bytes(&std::fs::read(&path).expect("model.json"), options)
    };
    imported.unwrap_or_else(|e| panic!("{name}: import failed: {e}"))
}

fn read(path: &PathBuf) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A fixture CSV: header and rows of cells (labels never contain commas or quotes).
fn csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = text.lines();
    let header = lines.next().expect("header").split(',').map(String::from).collect();
    let rows = lines.filter(|l| !l.is_empty()).map(|l| l.split(',').map(String::from).collect()).collect();
    (header, rows)
}

#[derive(Default)]
struct MaxDiff {
    value: f64,
    row: usize,
    not_bit_equal: usize,
}

impl MaxDiff {
    fn add(&mut self, row: usize, ours: f64, theirs: f64) {
        if ours.to_bits() != theirs.to_bits() {
            self.not_bit_equal += 1;
        }
        let d = (ours - theirs).abs();
        let d = if d.is_nan() { f64::INFINITY } else { d };
        if d > self.value {
            self.value = d;
            self.row = row;
        }
    }
}

/// Scores every fixture row and compares with the library; returns a one-line report.
fn check(name: &str, tol: Tolerance, shap_stride: usize) {
    check_with(name, tol, shap_stride, &ImportOptions::default(), "expected.csv");
}

/// [`check`] with import options and another file of expected values.
fn check_with(name: &str, tol: Tolerance, shap_stride: usize, options: &ImportOptions, expected_file: &str) {
    let dir = fixture_dir(name);
    let imported = import_fixture(name, options);
    let feature_names = imported.feature_names.clone();
    let mut bundle = imported.into_bundle(None).unwrap_or_else(|e| panic!("{name}: {e}"));

    let (header, rows) = csv(&read(&dir.join("rows.csv")));
    assert_eq!(header, feature_names, "{name}: rows.csv header = model features");
    let (expected_header, expected) = csv(&read(&dir.join(expected_file)));
    assert_eq!(expected_header.len(), feature_names.len() + 3);
    assert_eq!(rows.len(), expected.len(), "{name}: one expected line per row");

    let nf = feature_names.len();
    let mut features = Vec::with_capacity(rows.len() * nf);
    for (i, row) in rows.iter().enumerate() {
        let fields = header.iter().zip(row).map(|(h, c)| (h.as_str(), RawValue::Cell(c.as_str())));
        let record = bundle
            .schema()
            .validate(fields, &format!("row {}: ", i + 1))
            .unwrap_or_else(|issues| panic!("{name}: row {} invalid: {issues:?}", i + 1));
        features.extend_from_slice(&record.features);
    }

    let (mut raw_diff, mut prob_diff, mut shap_diff) =
        (MaxDiff::default(), MaxDiff::default(), MaxDiff::default());
    let mut contrib = Vec::new();
    let mut shap_rows = 0;
    // Both TreeSHAP paths: the walk and the precomputed path data the adapters use.
    let model = CompiledModel::new(bundle.clone());
    for (i, want) in expected.iter().enumerate() {
        let want: Vec<f64> = want.iter().map(|c| c.parse().expect("expected.csv float")).collect();
        let row = &features[i * nf..(i + 1) * nf];
        let raw = bundle.ensemble().raw_score(row);
        raw_diff.add(i, raw, want[0]);
        prob_diff.add(i, bundle.ensemble().probability(raw), want[1]);
        if i % shap_stride == 0 || i < 40 {
            shap::tree_shap(bundle.ensemble(), row, &mut contrib);
            for (ours, theirs) in contrib.iter().zip(&want[2..]) {
                shap_diff.add(i, *ours, *theirs);
            }
            model.row_shap_values(row, &mut contrib);
            for (ours, theirs) in contrib.iter().zip(&want[2..]) {
                shap_diff.add(i, *ours, *theirs);
            }
            shap_rows += 1;
        }
    }

    // Batch path and a bundle round trip give the very same bits.
    let mut batch = Vec::new();
    bundle.ensemble().raw_scores(&features, &mut batch);
    let bytes = bundle.to_bytes().expect("encode");
    let loaded = Bundle::from_bytes(&bytes).expect("decode");
    let mut reloaded = Vec::new();
    loaded.ensemble().raw_scores(&features, &mut reloaded);
    for i in 0..rows.len() {
        let row = &features[i * nf..(i + 1) * nf];
        let single = bundle.ensemble().raw_score(row);
        assert_eq!(batch[i].to_bits(), single.to_bits(), "{name} row {}: batch != single", i + 1);
        assert_eq!(reloaded[i].to_bits(), single.to_bits(), "{name} row {}: reloaded bundle differs", i + 1);
        assert_eq!(loaded.ensemble().raw_score(row).to_bits(), single.to_bits());
    }

    println!(
        "{name}: {} rows, {} trees | raw max |diff| {:e} (row {}, {} not bit-equal) | probability max |diff| {:e} \
         (row {}, {} not bit-equal) | SHAP max |diff| {:e} over {shap_rows} rows",
        rows.len(),
        bundle.ensemble().trees.len(),
        raw_diff.value,
        raw_diff.row + 1,
        raw_diff.not_bit_equal,
        prob_diff.value,
        prob_diff.row + 1,
        prob_diff.not_bit_equal,
        shap_diff.value,
    );
    assert!(
        raw_diff.value <= tol.score,
        "{name}: raw score differs by {:e} at row {}",
        raw_diff.value,
        raw_diff.row + 1
    );
    assert!(
        prob_diff.value <= tol.score,
        "{name}: probability differs by {:e} at row {}",
        prob_diff.value,
        prob_diff.row + 1
    );
    assert!(
        shap_diff.value <= tol.shap,
        "{name}: SHAP differs by {:e} at row {}",
        shap_diff.value,
        shap_diff.row + 1
    );
}

#[test]
fn lightgbm_numeric() {
    check("lgbm_numeric", LIGHTGBM, 1);
}

#[test]
fn lightgbm_categorical() {
    check("lgbm_categorical", LIGHTGBM, 1);
}

#[test]
fn lightgbm_missing_heavy_nan_splits() {
    check("lgbm_missing", LIGHTGBM, 1);
}

#[test]
fn lightgbm_zero_as_missing() {
    check("lgbm_zero_as_missing", LIGHTGBM, 1);
}

#[test]
fn lightgbm_500_trees_255_leaves() {
    // TreeSHAP over 500 x 255 leaves is slow in debug builds: a sample of rows (every edge row).
    check("lgbm_large", LIGHTGBM, 50);
}

#[test]
fn xgboost_numeric() {
    check("xgb_numeric", XGBOOST, 1);
}

#[test]
fn xgboost_categorical() {
    check("xgb_categorical", XGBOOST, 1);
}

// Import rules (fixtures of gen_import_fixtures.py).

#[test]
fn xgboost_rounds_category_codes_to_f32() {
    check("import/xgb_category_codes", XGBOOST, 1);
}

#[test]
fn xgboost_early_stopping_keeps_best_iteration_unless_all_trees() {
    let m = import_fixture("import/xgb_early_stopping", &ImportOptions::default());
    let it = m.iterations.clone();
    assert_eq!((it.rule.as_str(), it.used), ("best_iteration", it.best_iteration.unwrap() + 1));
    assert!(it.used < it.in_file);
    assert_eq!(m.ensemble.trees.len() as u64, it.used);
    let mut bundle = m.into_bundle(None).unwrap();
    assert_eq!(bundle.meta().iterations, Some(it));
    let bytes = bundle.to_bytes().unwrap();
    assert_eq!(Bundle::from_bytes(&bytes).unwrap().meta().iterations, bundle.meta().iterations);
    // XGBClassifier.predict_proba after load_model (iterations up to best_iteration).
    check("import/xgb_early_stopping", XGBOOST, 1);
    // Booster.predict (every tree) with --all-trees.
    let all = ImportOptions { all_trees: true };
    let m = import_fixture("import/xgb_early_stopping", &all);
    assert_eq!((m.iterations.rule.as_str(), m.iterations.used), ("all", m.iterations.in_file));
    check_with("import/xgb_early_stopping", XGBOOST, 1, &all, "expected_all.csv");
}

#[test]
fn xgboost_ubjson_reads_like_json() {
    let dir = fixture_dir("import/xgb_early_stopping");
    for all_trees in [false, true] {
        let options = ImportOptions { all_trees };
        let json =
            import::xgboost::parse_bytes(&std::fs::read(dir.join("model.json")).unwrap(), &options).unwrap();
        let ubj =
            import::xgboost::parse_bytes(&std::fs::read(dir.join("model.ubj")).unwrap(), &options).unwrap();
        assert!(ubj.source.ends_with("ubjson"), "{}", ubj.source);
        assert_eq!(ubj.ensemble, json.ensemble);
        assert_eq!((ubj.feature_names, ubj.iterations), (json.feature_names, json.iterations));
    }
}

#[test]
fn xgboost_nan_literals_of_old_writers() {
    check("import/xgb_nan_literals", XGBOOST, 1);
}

#[test]
fn lightgbm_v2_header_and_single_level_category() {
    let m = import_fixture("import/lgbm_v2_single_level", &ImportOptions::default());
    assert_eq!(m.categorical, [false, true, true, false]);
    assert_eq!(m.categorical_levels[1].as_deref(), Some(&["FR".to_string()][..]));
    check("import/lgbm_v2_single_level", LIGHTGBM, 1);
}

#[test]
fn xgboost_gblinear_is_refused_by_name() {
    let bytes = std::fs::read(fixture_dir("import/xgb_gblinear").join("model.json")).unwrap();
    let e = import::xgboost::parse_bytes(&bytes, &ImportOptions::default()).unwrap_err().to_string();
    assert!(e.contains("booster `gblinear`") && e.contains("booster='gbtree'"), "{e}");
}

#[test]
fn fixtures_cover_the_split_kinds() {
    use creditscore_core::{MissingType, Split};
    let kinds = |name: &str| {
        let dir = fixture_dir(name);
        let m = if name.starts_with("lgbm") {
            import::lightgbm::parse(&read(&dir.join("model.txt"))).unwrap()
        } else {
            import::xgboost::parse(&read(&dir.join("model.json"))).unwrap()
        };
        let splits: Vec<Split> =
            m.ensemble.trees.iter().flat_map(|t| t.nodes.iter().map(|n| n.split)).collect();
        (m, splits)
    };
    let (_, s) = kinds("lgbm_missing");
    assert!(
        s.iter()
            .any(|s| matches!(s, Split::LessOrEqual { missing: MissingType::NaN, default_left: true, .. }))
    );
    assert!(
        s.iter()
            .any(|s| matches!(s, Split::LessOrEqual { missing: MissingType::NaN, default_left: false, .. }))
    );
    let (_, s) = kinds("lgbm_zero_as_missing");
    assert!(s.iter().any(|s| matches!(s, Split::LessOrEqual { missing: MissingType::Zero, .. })));
    let (m, s) = kinds("lgbm_categorical");
    assert!(
        s.iter().any(|s| matches!(s, Split::Categorical { bitset_len: 2.., .. })),
        "a bitset beyond 32 codes"
    );
    assert!(m.categorical_levels.iter().flatten().any(|l| l.contains(&"L44".to_string())));
    assert!(
        m.categorical_levels.iter().flatten().any(|l| l.contains(&"10".to_string())),
        "integer categories"
    );
    let (m, s) = kinds("lgbm_large");
    assert!(m.ensemble.trees.len() >= 500 && m.ensemble.trees.iter().all(|t| t.leaf_values.len() == 255));
    assert!(s.iter().any(|s| matches!(s, Split::LessOrEqual { .. })));
    let (_, s) = kinds("xgb_categorical");
    assert!(s.iter().any(|s| matches!(s, Split::Categorical { in_set_left: false, .. })));
    assert!(s.iter().any(|s| matches!(s, Split::LessThanF32 { .. })));
}
