//! `creditscore import` / `predict` as a user meets them with model files from elsewhere: early
//! stopping, UBJSON, refusals by name, CSV output for any feature name, unknown input columns.
//! Fixtures: tests/parity/import (made by tests/parity/gen_import_fixtures.py with the pinned
//! libraries). Model files collected from public repositories (lleaves, treelite, leaves:
//! LightGBM 2.x-3.x and XGBoost 0.7x-1.4 files; a case collection kept outside this repository)
//! are checked too when a `shared/cases/models` folder with them sits beside the checkout;
//! without it that test is skipped.
use std::path::{Path, PathBuf};

mod common;
use common::{repo, succeeds};

fn fixture(name: &str) -> PathBuf {
    repo().join("tests/parity/import").join(name)
}

fn scratch(name: &str) -> PathBuf {
    common::scratch("import-cli-tests", name)
}

fn p(s: &str) -> &Path {
    Path::new(s)
}

/// Runs and expects success; returns stderr (the import summary).
fn ok(args: &[&Path]) -> String {
    String::from_utf8_lossy(&succeeds(args).stderr).into_owned()
}

/// Runs and expects a usage/input error (exit code 2); returns stderr.
fn fails(args: &[&Path]) -> String {
    common::fails_with(args, 2)
}

/// An RFC 4180 file: header and rows of cells (every row as wide as the header).
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::ReaderBuilder::new().flexible(false).from_path(path).expect("csv readable");
    let header = r.headers().expect("header").iter().map(String::from).collect();
    let rows =
        r.records().map(|rec| rec.expect("well-formed row").iter().map(String::from).collect()).collect();
    (header, rows)
}

fn float(cell: &str) -> f64 {
    if cell.is_empty() { f64::NAN } else { cell.parse().expect("float") }
}

/// Imports `model` and scores `rows` with --explain; returns the output file.
fn import_and_predict(
    dir: &Path,
    library: &str,
    model: &Path,
    rows: &Path,
    extra: &[&str],
) -> (String, PathBuf) {
    let bundle = dir.join("m.csb");
    let mut args: Vec<&Path> = vec![p("import"), p(library), model, p("--out"), &bundle];
    args.extend(extra.iter().map(|a| p(a)));
    let summary = ok(&args);
    let out = dir.join("scores.csv");
    ok(&[p("predict"), p("--bundle"), &bundle, p("--input"), rows, p("--out"), &out, p("--explain")]);
    (summary, out)
}

/// Largest |difference| of raw score, probability and SHAP between our output and the library's
/// expected file (columns raw_score, probability, then one per feature and the bias).
fn max_diffs(out: &Path, expected: &Path) -> (f64, f64, f64) {
    let (header, ours) = read_csv(out);
    let (_, theirs) = read_csv(expected);
    assert_eq!(ours.len(), theirs.len(), "row count");
    let shap: Vec<usize> = (0..header.len()).filter(|&i| header[i].starts_with("shap_")).collect();
    let (mut raw, mut prob, mut sh) = (0f64, 0f64, 0f64);
    let diff = |a: &str, b: &str| {
        let (a, b) = (float(a), float(b));
        if a.is_nan() && b.is_nan() {
            0.0
        } else if a.is_nan() || b.is_nan() {
            f64::INFINITY
        } else {
            (a - b).abs()
        }
    };
    for (o, t) in ours.iter().zip(&theirs) {
        assert_eq!(o.len(), header.len());
        raw = raw.max(diff(&o[0], &t[0]));
        prob = prob.max(diff(&o[1], &t[1]));
        assert_eq!(shap.len(), t.len() - 2, "one SHAP column per feature plus the bias");
        for (k, &i) in shap.iter().enumerate() {
            sh = sh.max(diff(&o[i], &t[2 + k]));
        }
    }
    (raw, prob, sh)
}

#[test]
fn early_stopping_uses_best_iteration_and_says_so() {
    let dir = scratch("early-stopping");
    let f = fixture("xgb_early_stopping");
    let (summary, out) = import_and_predict(&dir, "xgboost", &f.join("model.json"), &f.join("rows.csv"), &[]);
    assert!(summary.contains("iterations 0..=6 of 17 (best_iteration 6"), "{summary}");
    assert!(summary.contains("--all-trees keeps all"), "{summary}");
    let (raw, prob, shap) = max_diffs(&out, &f.join("expected.csv"));
    assert!(raw <= 1e-6 && prob <= 1e-6 && shap <= 1e-5, "{raw} {prob} {shap}");

    let (summary, out) =
        import_and_predict(&dir, "xgboost", &f.join("model.json"), &f.join("rows.csv"), &["--all-trees"]);
    assert!(summary.contains("all 17 iterations (--all-trees; the file's best_iteration is 6)"), "{summary}");
    let (raw, prob, shap) = max_diffs(&out, &f.join("expected_all.csv"));
    assert!(raw <= 1e-6 && prob <= 1e-6 && shap <= 1e-5, "{raw} {prob} {shap}");
}

#[test]
fn ubjson_scores_like_json() {
    let dir = scratch("ubjson");
    let f = fixture("xgb_early_stopping");
    let (summary, out) = import_and_predict(&dir, "xgboost", &f.join("model.ubj"), &f.join("rows.csv"), &[]);
    assert!(summary.contains("best_iteration 6"), "{summary}");
    let (raw, prob, shap) = max_diffs(&out, &f.join("expected.csv"));
    assert!(raw <= 1e-6 && prob <= 1e-6 && shap <= 1e-5, "{raw} {prob} {shap}");
}

#[test]
fn unsupported_files_are_refused_by_name_with_a_remedy() {
    let dir = scratch("refusals");
    let out = dir.join("m.csb");
    // The legacy binary layout: 136 bytes of learner parameters, then the objective's name.
    let legacy = dir.join("old.model");
    let mut bytes = vec![0u8; 136];
    bytes.extend_from_slice(&15u64.to_le_bytes());
    bytes.extend_from_slice(b"binary:logistic");
    bytes.extend_from_slice(&[0u8; 64]);
    std::fs::write(&legacy, &bytes).unwrap();
    let e = fails(&[p("import"), p("xgboost"), &legacy, p("--out"), &out]);
    assert!(e.contains("old.model") && e.contains("legacy binary XGBoost model"), "{e}");
    assert!(e.contains("re-save it with save_model('model.json')"), "{e}");

    let gblinear = fixture("xgb_gblinear").join("model.json");
    let e = fails(&[p("import"), p("xgboost"), &gblinear, p("--out"), &out]);
    assert!(
        e.contains("model.json") && e.contains("booster `gblinear`") && e.contains("booster='gbtree'"),
        "{e}"
    );

    let ubj = fixture("xgb_early_stopping").join("model.ubj");
    let e = fails(&[p("import"), p("lightgbm"), &ubj, p("--out"), &out]);
    assert!(e.contains("model.ubj") && e.contains("creditscore import xgboost"), "{e}");
    assert!(!out.exists());
}

#[test]
fn csv_output_is_rfc4180_for_any_feature_name() {
    let dir = scratch("names");
    let f = fixture("xgb_category_codes");
    // The same model with a feature named `x,"0"`.
    let text = std::fs::read_to_string(f.join("model.json")).unwrap();
    let model = dir.join("model.json");
    std::fs::write(&model, text.replacen(r#""x0""#, r#""x,\"0\"""#, 1)).unwrap();
    let rows = std::fs::read_to_string(f.join("rows.csv")).unwrap();
    let input = dir.join("rows.csv");
    std::fs::write(&input, rows.replacen("x0,", "\"x,\"\"0\"\"\",", 1)).unwrap();
    let (summary, out) = import_and_predict(&dir, "xgboost", &model, &input, &[]);
    assert!(summary.contains("3 features of which 1 categorical"), "integer-coded: {summary}");
    let (header, _) = read_csv(&out);
    let shap: Vec<&str> = header.iter().filter(|h| h.starts_with("shap_")).map(String::as_str).collect();
    assert_eq!(shap, ["shap_x,\"0\"", "shap_x1", "shap_code", "shap_bias"]);
    let (raw, prob, shap) = max_diffs(&out, &f.join("expected.csv"));
    assert!(raw <= 1e-6 && prob <= 1e-6 && shap <= 1e-5, "{raw} {prob} {shap}");
    // `features` writes its header through the same writer.
    let matrix = dir.join("matrix.csv");
    ok(&[p("features"), p("--schema"), &dir.join("m.csb"), p("--input"), &input, p("--out"), &matrix]);
    assert_eq!(read_csv(&matrix).0, ["x,\"0\"", "x1", "code"]);
}

#[test]
fn unknown_columns_are_named_or_ignored_on_request() {
    let dir = scratch("unknown-columns");
    let f = fixture("lgbm_v2_single_level");
    let rows = std::fs::read_to_string(f.join("rows.csv")).unwrap();
    let with_target: String = rows
        .lines()
        .enumerate()
        .map(|(i, l)| format!("{l},{}\n", if i == 0 { "TARGET" } else { "1" }))
        .collect();
    let input = dir.join("train.csv");
    std::fs::write(&input, with_target).unwrap();
    let bundle = dir.join("m.csb");
    let summary = ok(&[p("import"), p("lightgbm"), &f.join("model.txt"), p("--out"), &bundle]);
    assert!(summary.contains("4 features of which 2 categorical"), "{summary}");
    let out = dir.join("scores.csv");
    let e = fails(&[p("predict"), p("--bundle"), &bundle, p("--input"), &input, p("--out"), &out]);
    assert!(e.contains("TARGET") && e.contains("--ignore-unknown-columns") && !e.contains("GET /"), "{e}");
    ok(&[
        p("predict"),
        p("--bundle"),
        &bundle,
        p("--input"),
        &input,
        p("--out"),
        &out,
        p("--explain"),
        p("--ignore-unknown-columns"),
    ]);
    let (raw, prob, shap) = max_diffs(&out, &f.join("expected.csv"));
    assert!(raw <= 1e-12 && prob <= 1e-12 && shap <= 1e-9, "{raw} {prob} {shap}");
}

/// The optional folder of public-repository model files: `shared/cases/models` beside the
/// checkout, or beside the parent of a git worktree's folder.
fn shared_cases() -> Option<PathBuf> {
    let root = repo();
    [root.join("../shared/cases/models"), root.join("../../shared/cases/models")]
        .into_iter()
        .find(|d| d.is_dir())
}

#[test]
fn shared_model_cases_score_like_their_library_or_are_refused() {
    let Some(cases) = shared_cases() else {
        eprintln!("../shared/cases/models not present: skipped");
        return;
    };
    let dir = scratch("shared-cases");
    // (case, library, model file, tolerance on scores, tolerance on SHAP)
    let scored = [
        ("01-lleaves-airline-categorical", "lightgbm", "model.txt", 0.0, 1e-9),
        ("02-treelite-constant-tree", "lightgbm", "model.txt", 0.0, 1e-9),
        ("03-treelite-sparse-categorical-v2", "lightgbm", "model.txt", 0.0, 1e-9),
        ("04-leaves-lgb-dart-v2", "lightgbm", "model.txt", 0.0, 1e-9),
        ("05-leaves-lgb-breast-cancer-v3", "lightgbm", "model.txt", 0.0, 1e-9),
        ("06-leaves-xgb-1.4.1-json-agaricus", "xgboost", "model.json", 1e-6, 1e-5),
        ("07-xgb-legacy-binary-and-ubjson", "xgboost", "agaricus.ubj", 1e-6, 1e-5),
    ];
    for (case, library, model, tol, tol_shap) in scored {
        let c = cases.join(case);
        if !c.join(model).exists() {
            continue;
        }
        let (_, out) = import_and_predict(&dir, library, &c.join(model), &c.join("input.csv"), &[]);
        let (raw, prob, shap) = max_diffs(&out, &c.join("expected.csv"));
        eprintln!("{case}: raw {raw:e} probability {prob:e} SHAP {shap:e}");
        assert!(raw <= tol && prob <= tol && shap <= tol_shap, "{case}: {raw} {prob} {shap}");
    }
    let refused = [
        ("07-xgb-legacy-binary-and-ubjson", "mushroom.model", "legacy binary XGBoost model"),
        ("07-xgb-legacy-binary-and-ubjson", "xgagaricus_1.0.0.model", "legacy binary XGBoost model"),
        ("20-xgb-gblinear", "model.json", "booster `gblinear`"),
        ("20-xgb-gblinear", "leaves_xgblin_agaricus.json", "booster `gblinear`"),
    ];
    for (case, model, why) in refused {
        let path = cases.join(case).join(model);
        if !path.exists() {
            continue;
        }
        let e = fails(&[p("import"), p("xgboost"), &path, p("--out"), &dir.join("refused.csb")]);
        assert!(e.contains(model) && e.contains(why), "{case}/{model}: {e}");
    }
}
