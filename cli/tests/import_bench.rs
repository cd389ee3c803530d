//! `creditscore import` and `creditscore bench` through the real binary: a fixture model becomes
//! a bundle whose `predict` output equals the library's probabilities, bad files give clear
//! errors, and `bench` prints its measurements.

use std::path::{Path, PathBuf};

mod common;
use common::run as cli;

fn fixture(name: &str, file: &str) -> String {
    let path = common::repo().join("tests/parity").join(name).join(file);
    path.to_string_lossy().into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("creditscore-import-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir.join(name)
}

fn column(csv: &Path, header: &str) -> Vec<f64> {
    let text = std::fs::read_to_string(csv).expect("read csv");
    let mut lines = text.lines();
    let col = lines.next().expect("header").split(',').position(|h| h == header).expect("column");
    lines.map(|l| l.split(',').nth(col).expect("cell").parse().expect("float")).collect()
}

fn imported_bundle_predicts_like_the_library(library: &str, name: &str, model: &str, tolerance: f64) {
    let bundle = scratch(&format!("{name}.csb"));
    let bundle_s = bundle.to_str().unwrap();
    let out = cli(&["import", library, &fixture(name, model), "--out", bundle_s, "--name", name]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let scores = scratch(&format!("{name}_scores.csv"));
    let out = cli(&[
        "predict",
        "--bundle",
        bundle_s,
        "--input",
        &fixture(name, "rows.csv"),
        "--out",
        scores.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let ours = column(&scores, "probability");
    let theirs = column(Path::new(&fixture(name, "expected.csv")), "probability");
    assert_eq!(ours.len(), theirs.len());
    let worst = ours.iter().zip(&theirs).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(worst <= tolerance, "{name}: predict differs from the library by {worst:e}");
}

#[test]
fn lightgbm_import_then_predict() {
    imported_bundle_predicts_like_the_library("lightgbm", "lgbm_categorical", "model.txt", 1e-12);
}

#[test]
fn xgboost_import_then_predict() {
    imported_bundle_predicts_like_the_library("xgboost", "xgb_categorical", "model.json", 1e-6);
}

#[test]
fn import_errors_name_the_file_and_the_problem() {
    let out_path = scratch("never.csb");
    let out = cli(&[
        "import",
        "lightgbm",
        &fixture("xgb_numeric", "model.json"),
        "--out",
        out_path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("model.json:1:") && err.contains("not a LightGBM text model"), "{err}");
    assert!(!out_path.exists(), "no bundle written on error");

    let truncated = scratch("truncated.txt");
    let text = std::fs::read_to_string(fixture("lgbm_numeric", "model.txt")).unwrap();
    std::fs::write(&truncated, &text[..text.len() / 2]).unwrap();
    let out = cli(&["import", "lightgbm", truncated.to_str().unwrap(), "--out", out_path.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("truncated.txt"), "{err}");

    let spec = scratch("spec.json");
    std::fs::write(&spec, "{\"meta\": {}}").unwrap();
    let out = cli(&[
        "import",
        "lightgbm",
        &fixture("lgbm_numeric", "model.txt"),
        "--out",
        out_path.to_str().unwrap(),
        "--spec",
        spec.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("spec.json") && err.contains("not a bundle spec"), "{err}");
}

#[test]
fn bench_reports_throughput_and_load_time() {
    let bundle = scratch("bench.csb");
    let bundle_s = bundle.to_str().unwrap();
    let out = cli(&["import", "lightgbm", &fixture("lgbm_numeric", "model.txt"), "--out", bundle_s]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows = fixture("lgbm_numeric", "rows.csv");
    let bench = |extra: &[&str]| {
        let out =
            cli(&[&["bench", "--bundle", bundle_s, "--input", &rows, "--seconds", "0.05"], extra].concat());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        out
    };
    let out = bench(&[]);
    let text = String::from_utf8_lossy(&out.stdout);
    for label in ["load from bytes", "single record", "batch", "rows/s", "ns/row"] {
        assert!(text.contains(label), "{label} missing from:\n{text}");
    }
    let out = bench(&["--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("bench --json prints JSON");
    assert_eq!(json["rows"], 900);
    assert!(json["batch_ns_per_row"].as_f64().is_some_and(|v| v > 0.0));
    // The from-a-record figure needs parsed JSON records: none for CSV input.
    assert!(json["record_ns_per_row"].is_null(), "{json}");

    // The same rows as JSONL (an empty cell is a missing value).
    let mut csv = csv::Reader::from_path(&rows).unwrap();
    let header = csv.headers().unwrap().clone();
    let mut jsonl = String::new();
    for row in csv.records() {
        let row = row.unwrap();
        let object: serde_json::Map<String, serde_json::Value> = header
            .iter()
            .zip(row.iter())
            .map(|(k, v)| {
                (k.to_owned(), v.parse::<f64>().map_or(serde_json::Value::Null, serde_json::Value::from))
            })
            .collect();
        jsonl.push_str(&serde_json::Value::Object(object).to_string());
        jsonl.push('\n');
    }
    let rows_jsonl = scratch("bench_rows.jsonl");
    std::fs::write(&rows_jsonl, jsonl).unwrap();
    let out =
        cli(&["bench", "--bundle", bundle_s, "--input", rows_jsonl.to_str().unwrap(), "--seconds", "0.05"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("from a record"), "{text}");
    let out = cli(&[
        "bench",
        "--bundle",
        bundle_s,
        "--input",
        rows_jsonl.to_str().unwrap(),
        "--seconds",
        "0.05",
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["rows"], 900);
    let (record, single) =
        (json["record_ns_per_row"].as_f64().unwrap(), json["single_ns_per_row"].as_f64().unwrap());
    assert!(record > 0.0 && single > 0.0, "{json}");
}
