//! `predict --threads N`: the output of every thread count is byte-identical to one thread's, on
//! every parity fixture (tests/parity) and on inputs of several chunks, rows in input order; and
//! invalid rows are reported the same way whatever the thread count.
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{path, repo, succeeds as creditscore};

fn scratch(name: &str) -> PathBuf {
    common::scratch("parallel-tests", name)
}

/// (fixture, library, model file) of every parity fixture, from tests/parity/manifest.json.
fn fixtures() -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(repo().join("tests/parity/manifest.json")).expect("manifest");
    let manifest: serde_json::Value = serde_json::from_str(&text).expect("manifest JSON");
    manifest
        .as_array()
        .expect("a list")
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().expect("string field").to_string();
            (s("name"), s("library"), s("model"))
        })
        .collect()
}

fn import(dir: &Path, fixture: &str, library: &str, model: &str) -> PathBuf {
    let bundle = dir.join(format!("{fixture}.csb"));
    let model = repo().join("tests/parity").join(fixture).join(model);
    creditscore(&["import", library, path(&model), "--out", path(&bundle)]);
    bundle
}

/// `predict` with `threads` threads; returns the output file's bytes.
fn predict(bundle: &Path, input: &Path, out: &Path, threads: usize, extra: &[&str]) -> Vec<u8> {
    let threads = threads.to_string();
    let mut args = vec!["predict", "--bundle", path(bundle), "--input", path(input), "--out", path(out)];
    args.extend(["--threads", threads.as_str()]);
    args.extend(extra);
    creditscore(&args);
    std::fs::read(out).expect("output written")
}

/// `rows.csv` of `fixture` repeated until it has more than `min_rows` rows (header once).
fn repeated(dir: &Path, fixture: &str, min_rows: usize) -> (PathBuf, usize) {
    let text = std::fs::read_to_string(repo().join("tests/parity").join(fixture).join("rows.csv")).unwrap();
    let (header, body) = text.split_once('\n').expect("a header");
    let n = body.lines().count();
    let copies = min_rows / n + 1;
    let file = dir.join(format!("{fixture}_x{copies}.csv"));
    std::fs::write(&file, format!("{header}\n{}", body.repeat(copies))).unwrap();
    (file, n * copies)
}

#[test]
fn every_thread_count_writes_the_same_bytes_on_every_parity_fixture() {
    let dir = scratch("fixtures");
    for (fixture, library, model) in fixtures() {
        let bundle = import(&dir, &fixture, &library, &model);
        let rows = repo().join("tests/parity").join(&fixture).join("rows.csv");
        // TreeSHAP of the 500-tree model is slow in a debug build: the others cover --explain.
        let explain: &[&str] = if fixture == "lgbm_large" {
            &[]
        } else {
            &["--explain", "--reasons", "2", "--reasons-for", "all"]
        };
        for (ext, extra) in [("csv", &[][..]), ("jsonl", &[][..]), ("csv", explain)] {
            let out = dir.join(format!("{fixture}.{ext}"));
            let one = predict(&bundle, &rows, &out, 1, extra);
            let lines = String::from_utf8_lossy(&one).lines().count();
            let rows_in = std::fs::read_to_string(&rows).unwrap().lines().count() - 1;
            assert_eq!(lines, rows_in + usize::from(ext == "csv"), "{fixture}: one line per row");
            let many = predict(&bundle, &rows, &out, 3, extra);
            assert!(one == many, "{fixture} {extra:?} .{ext}: 3 threads differ from one");
        }
    }
}

#[test]
fn many_chunks_come_out_in_input_order() {
    // More than three chunks of 4096 rows, so that workers finish out of order.
    let dir = scratch("chunks");
    let bundle = import(&dir, "lgbm_categorical", "lightgbm", "model.txt");
    let (rows, n) = repeated(&dir, "lgbm_categorical", 3 * 4096 + 100);
    for ext in ["csv", "jsonl"] {
        let out = dir.join(format!("scores.{ext}"));
        let one = predict(&bundle, &rows, &out, 1, &[]);
        assert_eq!(String::from_utf8_lossy(&one).lines().count(), n + usize::from(ext == "csv"));
        for threads in [2, 4] {
            assert!(one == predict(&bundle, &rows, &out, threads, &[]), ".{ext}: {threads} threads differ");
        }
    }
    // JSONL input: the same rows as JSON records give the same scores, in the same order.
    let text = std::fs::read_to_string(&rows).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let mut jsonl = String::new();
    for line in lines {
        let obj: serde_json::Map<String, serde_json::Value> = header
            .iter()
            .zip(line.split(','))
            .filter(|(_, v)| !v.is_empty())
            .map(|(h, v)| {
                let value = match v.parse::<f64>() {
                    Ok(x) if !h.starts_with("cat_") => serde_json::json!(x),
                    _ => serde_json::json!(v),
                };
                (h.to_string(), value)
            })
            .collect();
        jsonl.push_str(&serde_json::Value::Object(obj).to_string());
        jsonl.push_str("\n\n"); // blank lines are skipped
    }
    let rows_jsonl = dir.join("rows.jsonl");
    std::fs::write(&rows_jsonl, jsonl).unwrap();
    let from_csv = predict(&bundle, &rows, &dir.join("a.csv"), 1, &[]);
    let from_jsonl = predict(&bundle, &rows_jsonl, &dir.join("b.csv"), 3, &[]);
    assert!(from_csv == from_jsonl, "JSONL input on 3 threads scores like CSV on one");
}

#[test]
fn invalid_rows_in_late_chunks_are_reported_alike_and_nothing_is_written() {
    let dir = scratch("invalid");
    let bundle = import(&dir, "lgbm_numeric", "lightgbm", "model.txt");
    let (rows, n) = repeated(&dir, "lgbm_numeric", 3 * 4096);
    // Break the first cell of rows 5000 and n (1-based data rows; line = row + 1).
    let text = std::fs::read_to_string(&rows).unwrap();
    let broken: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 5000 || i == n {
                let (_, rest) = l.split_once(',').unwrap();
                format!("abc,{rest}")
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(&rows, broken.join("\n") + "\n").unwrap();
    let out = dir.join("scores.csv");
    let mut messages = Vec::new();
    for threads in ["1", "3"] {
        let run = Command::new(env!("CARGO_BIN_EXE_creditscore"))
            .args(["predict", "--bundle", path(&bundle), "--input", path(&rows), "--out", path(&out)])
            .args(["--threads", threads])
            .output()
            .unwrap();
        assert_eq!(run.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
        assert!(stderr.contains("2 invalid row(s)"), "{stderr}");
        assert!(stderr.contains("row 5000: ") && stderr.contains(&format!("row {n}: ")), "{stderr}");
        assert!(!out.exists() && !dir.join("scores.csv.partial").exists(), "nothing written");
        messages.push(stderr);
    }
    assert_eq!(messages[0], messages[1]);
    let run = Command::new(env!("CARGO_BIN_EXE_creditscore"))
        .args(["predict", "--bundle", path(&bundle), "--input", path(&rows), "--out", path(&out)])
        .args(["--threads", "0"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2), "--threads 0 is a usage error");
}
