"""`creditscore drift --logs` over several files, a directory and gzip files, with the copies that
at-least-once delivery and overlapping pulls make (run by `make test-drift`).

    .venv/bin/python tests/drift/run_drift_inputs.py --bin target/debug/creditscore

Traffic: 3,000 records of README-style clients (tests/drift/gen_drift_cases.py: the bundle's
required inputs drawn from its reference statistics, scored by the bundle), four records per
request (request_id shared, record_index 0..3) plus failed requests (record_index null). The same
records are then laid out as users get them:

- two pulls whose time ranges overlap (500 records in both), one with queue redeliveries inside;
- a copy of the bucket's partitioned tree (logs/date=.../hour=.../*.ndjson, some gzip-compressed,
  one batch delivered twice, a file that is not a log) read as a directory;
- one gzip file holding everything plus repeated lines;
- a mix of a plain and a gzip file on one --logs.

Expected values come from Python's json and pandas over the same lines: records de-duplicated
with pandas' drop_duplicates on (request_id, record_index), counts, refusal rate, probability
histogram and the PSI of every numeric input against the bundle's reference deciles (numpy).
Every layout must give the report of the de-duplicated file, statistic for statistic.
"""

import argparse
import gzip
import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import check, features, finish, psi_bundle_deciles  # noqa: E402
from demo_traffic import bundle_header  # noqa: E402
from gen_drift_cases import draw_records, log_line, score  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "out" / "drift" / "inputs"
BUNDLE = ROOT / "models" / "default.csb"
RECORDS = 3000
PER_REQUEST = 4


def write(path, lines, gz=False):
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(line + "\n" for line in lines).encode()
    path.write_bytes(gzip.compress(data) if gz else data)


def traffic(binary, header):
    version, threshold = header["meta"]["version"], header["threshold"]
    recs = draw_records(header, RECORDS, seed=77)
    probs = score(binary, BUNDLE, recs, OUT)
    lines = []
    for i, (r, p) in enumerate(zip(recs, probs, strict=True)):
        rec = log_line(i, r, p, threshold, version)
        rec["request_id"] = f"q{i // PER_REQUEST}"
        rec["record_index"] = i % PER_REQUEST
        lines.append(json.dumps(rec))
        if i % 100 == 50:
            err = {"ts": rec["ts"], "request_id": f"e{i}", "record_index": None, "endpoint": "/predict",
                   "model_version": version, "threshold": None, "source": "api", "status": 422,
                   "client_id_hash": None, "warnings": [], "probability": None, "prediction": None,
                   "error": {"code": "invalid_input", "message": "m", "issues": 1}, "latency_us": 80}
            lines.append(json.dumps(err))
    return lines


def run(binary, logs_args, name):
    out = OUT / f"report-{name}"
    cmd = [binary, "drift", *logs_args, "--bundle", BUNDLE, "--out", out]
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    path = out / "drift_summary.json"
    s = json.loads(path.read_text()) if r.returncode == 0 and path.exists() else {}
    check(r.returncode == 0 and "panicked" not in r.stderr,
          f"{name}: exit 0 ({r.returncode}: {r.stderr.strip()[-300:]})")
    return s, r.stdout


def expected(lines, header):
    """What the report must say, from json + pandas over the de-duplicated records."""
    df = pd.DataFrame([json.loads(x) for x in lines])
    unique = df.drop_duplicates(subset=["request_id", "record_index"])
    scored = unique[unique["error"].isna()] if "error" in unique else unique
    inputs = pd.DataFrame(list(scored["inputs"]))
    probs = scored["probability"].to_numpy(float)
    refs = {f["name"]: f for f in header["reference"]["features"]}
    psi = {}
    for col in inputs:
        ref = refs.get(col)
        if ref is None or ref["type"] != "numeric":
            continue
        cur = pd.to_numeric(inputs[col], errors="coerce")
        if col == "DAYS_EMPLOYED":
            cur = cur.replace(365243, np.nan)
        psi[col] = psi_bundle_deciles(ref["quantiles"], cur.dropna().to_numpy(float))
    return {
        "records": len(unique), "duplicates": len(df) - len(unique), "scored": len(scored),
        "errors": len(unique) - len(scored), "refusal": float(scored["prediction"].mean()),
        # The report's 1000 bins of 0.001 (core drift::monitor::PROBABILITY_BINS).
        "histogram": np.histogram(probs, bins=1000, range=(0, 1))[0].tolist(), "psi": psi,
    }


def compare(name, s, want, baseline, files=None):
    lg = s.get("logs", {})
    got = (lg.get("records"), lg.get("duplicate_records"), lg.get("scored"), lg.get("errors"))
    check(got == (want["records"], want["duplicates"], want["scored"], want["errors"]),
          f"{name}: records, duplicates dropped, scored, errors = {got} "
          f"(pandas {want['records']}, {want['duplicates']}, {want['scored']}, {want['errors']})")
    if files is not None:
        check(lg.get("files") == files, f"{name}: {lg.get('files')} files read (want {files})")
    sc = s.get("score", {})
    check(abs((sc.get("current_refusal_rate") or -1) - want["refusal"]) < 1e-12,
          f"{name}: refusal rate {sc.get('current_refusal_rate')} (pandas {want['refusal']})")
    check(sc.get("current_histogram") == want["histogram"], f"{name}: probability histogram as numpy")
    feats = features(s)
    bad = {c: (feats.get(c, {}).get("psi"), v) for c, v in want["psi"].items()
           if feats.get(c, {}).get("psi") is None or abs(feats[c]["psi"] - v) > 1e-9}
    check(not bad and want["psi"], f"{name}: PSI of {len(want['psi'])} numeric inputs as numpy ({bad})")
    if baseline is not None:
        same = s.get("features") == baseline.get("features") and s.get("score") == baseline.get("score")
        check(same, f"{name}: every feature and score statistic equals the de-duplicated file's report")
    check(f"{want['duplicates']} duplicates dropped" in s.get("_stdout", ""),
          f"{name}: the duplicate count is printed")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True)
    a = ap.parse_args()
    binary = Path(a.bin).resolve()
    OUT.mkdir(parents=True, exist_ok=True)
    header = bundle_header(BUNDLE)
    lines = traffic(binary, header)
    rng = random.Random(5)
    n = len(lines)

    def report(args, name):
        s, stdout = run(binary, args, name)
        s["_stdout"] = stdout
        return s

    # The reference run: one file, no copies (its expected values are checked too).
    write(OUT / "unique.jsonl", lines)
    want = expected(lines, header)
    check(want["duplicates"] == 0, "the generated traffic has no duplicates")
    baseline = report(["--logs", OUT / "unique.jsonl"], "unique")
    compare("unique", baseline, want, None, files=1)
    html = (OUT / "report-unique" / "drift_report.html").read_text()
    check("0 duplicates dropped" in html, "the HTML shows the duplicate count with the record counts")

    # Two overlapping pulls, the second with redeliveries inside it.
    cut_a, cut_b = int(n * 2 / 3), int(n / 2)
    a_lines, b_lines = lines[:cut_a], lines[cut_b:]
    b_lines = b_lines + rng.sample(b_lines, 40)
    write(OUT / "pull-a.jsonl", a_lines)
    write(OUT / "pull-b.jsonl", b_lines)
    both = a_lines + b_lines
    w = expected(both, header)
    check(w["duplicates"] == (cut_a - cut_b) + 40, f"the two pulls overlap by {cut_a - cut_b} plus 40 copies")
    compare("two files", report(["--logs", OUT / "pull-a.jsonl", OUT / "pull-b.jsonl"], "two-files"), w, baseline,
            files=2)
    # Repeated --logs, a plain and a gzip file.
    write(OUT / "pull-b.jsonl.gz", b_lines, gz=True)
    compare("--logs twice, plain + gzip",
            report(["--logs", OUT / "pull-a.jsonl", "--logs", OUT / "pull-b.jsonl.gz"], "plain-and-gzip"), w,
            baseline, files=2)

    # The bucket's partitioned tree: one object per 10-minute batch, every third one gzip,
    # one batch delivered twice (a second object), plus files that are not logs.
    tree = OUT / "bucket" / "logs"
    if tree.exists():
        for p in sorted(tree.rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
    batches = {}
    for line in lines:
        ts = json.loads(line)["ts"]
        batches.setdefault(ts[:15], []).append(line)
    written = []
    for k, (minute, batch) in enumerate(sorted(batches.items())):
        date, hour = minute[:10], minute[11:13]
        gz = k % 3 == 2
        name = f"{minute.replace(':', '')}0_batch{k}.ndjson" + (".gz" if gz else "")
        write(tree / f"date={date}" / f"hour={hour}" / name, batch, gz=gz)
        written.append(batch)
    redelivered = written[1]
    write(tree / "date=2099-01-01" / "hour=00" / "redelivery.ndjson", redelivered)
    (tree / "README.txt").write_text("not a log file\n")
    (tree / "date=2099-01-01" / "manifest.json").write_text("{}\n")
    w = expected(lines + redelivered, header)
    check(w["duplicates"] == len(redelivered), f"the redelivered batch holds {len(redelivered)} copies")
    compare("directory", report(["--logs", OUT / "bucket"], "directory"), w, baseline, files=len(written) + 1)

    # One gzip file with everything, plus repeated lines (a name without .gz: read by content).
    extra = rng.sample(lines, 100)
    write(OUT / "all.ndjson.gz", lines + extra, gz=True)
    w = expected(lines + extra, header)
    compare("gzip file", report(["--logs", OUT / "all.ndjson.gz"], "gzip"), w, baseline, files=1)
    write(OUT / "all-gzip-named-plain.jsonl", lines + extra, gz=True)
    compare("gzip content named .jsonl", report(["--logs", OUT / "all-gzip-named-plain.jsonl"], "gzip-by-content"),
            w, baseline, files=1)

    # Errors name the path: a missing file, a directory without log files, a truncated gzip file.
    empty = OUT / "no-logs-here"
    empty.mkdir(exist_ok=True)
    (empty / "notes.txt").write_text("x\n")
    data = (OUT / "all.ndjson.gz").read_bytes()
    (OUT / "truncated.ndjson.gz").write_bytes(data[: len(data) // 2])
    for bad, what in [(OUT / "missing.jsonl", "missing file"), (empty, "directory without log files"),
                      (OUT / "truncated.ndjson.gz", "truncated gzip file")]:
        r = subprocess.run([str(binary), "drift", "--logs", str(bad), "--bundle", str(BUNDLE), "--out",
                            str(OUT / "report-bad")], capture_output=True, text=True)
        check(r.returncode == 1 and str(bad) in r.stderr and "panicked" not in r.stderr,
              f"{what}: exit 1 naming the path ({r.returncode}: {r.stderr.strip()[:200]})")

    finish("\n{} drift input check(s) failed", "\nall drift input checks passed")


if __name__ == "__main__":
    main()
