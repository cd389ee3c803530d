"""Verdict tests of `creditscore drift` through the CLI (run by `make test-drift`).

    .venv/bin/python tests/drift/run_drift_cases.py --bin target/debug/creditscore

Generates the project's own cases (tests/drift/gen_drift_cases.py) and, when the shared
reproductions exist (kept outside this repository: a `shared/cases/drift` folder beside the
checkout or one of its parent folders, or --shared DIR), runs them too. Each expected value
is computed independently from the files: Python's json (which keeps the last of repeated keys
and reads NaN, Infinity and 1e400), pandas and scipy.

Rules checked (docs/DRIFT.md):
- inputs the clients never send are `not_sent`, listed once and left out of the verdict; README
  traffic is `ok` with exit 0 under --fail-on-drift, and EXT_SOURCE_2 shifted is `drift` with
  EXT_SOURCE_2 first;
- the score distribution and the refusal rate are part of the verdict; logs of another model
  version are called out in the headline;
- a non-finite number spoils only its own input; repeated keys keep the last value and are
  counted; timestamps without zone / with +0000 / fractional seconds are read;
- a file with no usable line exits non-zero (even without --fail-on-drift), with the reason.
"""

import argparse
import gzip
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import check, features, finish, psi_bundle_deciles  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "out" / "drift" / "cases"
BUNDLE = ROOT / "models" / "default.csb"
# The optional external reproductions: `shared/cases/drift` beside the checkout or beside one of its
# parent folders (a git worktree sits one level deeper than the main checkout).
SHARED = next((p / "shared" / "cases" / "drift" for p in ROOT.parents if (p / "shared" / "cases" / "drift").is_dir()),
              ROOT.parent / "shared" / "cases" / "drift")
def lines_of(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as f:
        return f.read().splitlines()


def records_of(path):
    """Log records as Python reads them (json: last repeated key wins; NaN, Infinity, 1e400 -> float)."""
    out = []
    for line in lines_of(path):
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(r, dict):
            out.append(r)
    return out


def run_case(binary, logs, out, reference=None, fail_on_drift=True):
    if str(logs).endswith(".gz"):
        plain = out.parent / (out.name + ".logs.jsonl")
        out.parent.mkdir(parents=True, exist_ok=True)
        plain.write_text("\n".join(lines_of(logs)) + "\n")
        logs = plain
    if reference is not None and str(reference).endswith(".csv.gz"):
        plain = out.parent / (out.name + ".reference.csv")
        plain.write_bytes(gzip.decompress(Path(reference).read_bytes()))
        reference = plain
    cmd = [binary, "drift", "--logs", logs, "--bundle", BUNDLE, "--out", out]
    cmd += ["--fail-on-drift"] if fail_on_drift else []
    cmd += ["--reference", reference] if reference else []
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    path = out / "drift_summary.json"
    summary = json.loads(path.read_text()) if path.exists() else {}
    if "panicked" in r.stderr:
        check(False, f"{out.name}: no panic ({r.stderr[-300:]})")
    return r, summary, reference


def required_inputs():
    from demo_traffic import bundle_header

    h = bundle_header(BUNDLE)
    return h, [f["name"] for f in h["schema"]["inputs"] if f.get("required")]


def readme_traffic(binary, name, logs):
    header, required = required_inputs()
    r, s, _ = run_case(binary, logs, OUT / f"report-{name}")
    check(r.returncode == 0 and s.get("status") == "ok",
          f"{name}: README traffic is ok with exit 0 under --fail-on-drift (exit {r.returncode}, "
          f"status {s.get('status')}, {s.get('verdict', {}).get('reasons')})")
    recs = records_of(logs)
    sent = {k for rec in recs for k in rec.get("inputs", {})}
    optional = [f["name"] for f in header["schema"]["inputs"] if f["name"] not in sent]
    feats = features(s)
    not_sent = sorted(n for n, f in feats.items() if f["status"] == "not_sent")
    expected = sorted(n for n in optional if n in feats)
    check(not_sent == expected and len(expected) == 29,
          f"{name}: the {len(expected)} inputs never sent are `not_sent` (got {len(not_sent)})")
    check(all("missing rate" not in " ".join(feats[n]["reasons"]) for n in not_sent),
          f"{name}: no missing-rate alarm for inputs never sent")
    check(s.get("verdict", {}).get("inputs_not_sent") == len(expected)
          and any("not sent" in h for h in s.get("headline", [])),
          f"{name}: the headline says {len(expected)} inputs are not sent")
    judged = [n for n in required if feats.get(n, {}).get("status") in ("ok", "watch", "drift")]
    check(len(judged) == len(required), f"{name}: all {len(required)} sent inputs are judged ({judged})")


def readme_shifted(binary, logs):
    r, s, _ = run_case(binary, logs, OUT / "report-readme-traffic-shifted")
    first = s.get("features", [{}])[0]
    check(r.returncode == 3 and s.get("status") == "drift" and first.get("name") == "EXT_SOURCE_2"
          and first.get("status") == "drift",
          f"README traffic with EXT_SOURCE_2 - 0.15: drift, exit 3, EXT_SOURCE_2 first "
          f"(exit {r.returncode}, first {first.get('name')} {first.get('status')})")
    # PSI of EXT_SOURCE_2 on the bundle's reference deciles (percentiles 10, 20, ..., 90; right-closed
    # bins, shares floored at 1e-4), recomputed with numpy.
    header, _ = required_inputs()
    q = next(f for f in header["reference"]["features"] if f["name"] == "EXT_SOURCE_2")["quantiles"]
    cur = pd.to_numeric(pd.DataFrame([x["inputs"] for x in records_of(logs)])["EXT_SOURCE_2"]).dropna()
    expected = psi_bundle_deciles(q, cur.to_numpy())
    psi = first.get("psi")
    check(psi is not None and abs(psi - expected) < 1e-9, f"EXT_SOURCE_2 PSI {psi} vs numpy {expected}")


def reference_scores(binary, reference, work):
    """The bundle's probabilities on the reference rows, through `creditscore predict` (pandas reads them)."""
    out = work / "reference_scores.csv"
    subprocess.run([str(binary), "predict", "--bundle", BUNDLE, "--input", reference, "--out", out], check=True,
                   capture_output=True)
    return pd.read_csv(out)["probability"].to_numpy(float)


def score_drift(binary, name, logs, reference, expect_score, expect_version_note):
    r, s, reference = run_case(binary, logs, OUT / f"report-{name}", reference)
    header, _ = required_inputs()
    threshold = header["threshold"]
    feats = features(s)
    inputs_status = {n: f["status"] for n, f in feats.items() if f["status"] not in ("not_sent",)}
    check(all(v in ("ok", "watch") for v in inputs_status.values()) and "drift" not in inputs_status.values(),
          f"{name}: no input drifts ({inputs_status})")
    recs = records_of(logs)
    cur_rate = float(np.mean([x["prediction"] for x in recs]))
    ref_p = reference_scores(binary, reference, OUT)
    ref_rate = float(np.mean(ref_p >= threshold))
    ref_n = len(ref_p)
    sc = s.get("score", {})
    refusal = sc.get("refusal") or {}
    check(abs(refusal.get("current_rate", -1) - cur_rate) < 1e-12
          and abs(refusal.get("reference_rate", -1) - ref_rate) < 1e-12,
          f"{name}: refusal rate {refusal.get('reference_rate')} -> {refusal.get('current_rate')} "
          f"(pandas {ref_rate:.4f} -> {cur_rate:.4f})")
    # Two-proportion test with Yates' correction = scipy's chi2_contingency(correction=True) on counts.
    n1 = len(recs)
    ref_refused = int(round(ref_rate * ref_n))
    cur_refused = int(sum(x["prediction"] for x in recs))
    p = stats.chi2_contingency([[ref_refused, ref_n - ref_refused], [cur_refused, n1 - cur_refused]],
                               correction=True).pvalue
    check(abs(refusal.get("pvalue", -1) - p) <= 1e-9 + 1e-6 * p,
          f"{name}: refusal p {refusal.get('pvalue')} vs scipy {p}")
    check(refusal.get("status") == "drift", f"{name}: refusal rate status drift ({refusal.get('status')})")
    comp = sc.get("comparison") or {}
    cur_p = np.array([x["probability"] for x in recs], float)
    ks = stats.ks_2samp(ref_p, cur_p)
    check(abs(comp.get("ks", {}).get("statistic", -1) - ks.statistic) <= 1e-9,
          f"{name}: score KS {comp.get('ks', {}).get('statistic')} vs scipy {ks.statistic}")
    check(comp.get("status") == expect_score, f"{name}: score distribution {comp.get('status')} (want {expect_score})")
    check(r.returncode == 3 and s.get("status") == "drift",
          f"{name}: overall drift with exit 3 (exit {r.returncode}, {s.get('status')})")
    versions = {x["model_version"] for x in recs}
    noted = any("another model version" in h for h in s.get("headline", []))
    check(noted == expect_version_note, f"{name}: headline on model version {versions}: {noted}")


def nan_infinity(binary, name, logs, reference=None, duplicates=None):
    r, s, _ = run_case(binary, logs, OUT / f"report-{name}", reference, fail_on_drift=False)
    recs = records_of(logs)
    check(r.returncode == 0 and s.get("logs", {}).get("records") == len(recs) and s["logs"]["malformed_lines"] == 0,
          f"{name}: all {len(recs)} records count (got {s.get('logs', {}).get('records')}, exit {r.returncode})")
    df = pd.DataFrame([x["inputs"] for x in recs])
    feats = features(s)
    for col, f in feats.items():
        if f["status"] == "not_sent" or col not in df:
            continue
        values = df[col]
        if f["type"] == "numeric":
            num = pd.to_numeric(values, errors="coerce")
            if col == "DAYS_EMPLOYED":
                num = num.replace(365243, np.nan)
            finite = int(np.isfinite(num.to_numpy(float)).sum())
        else:
            finite = int(values.notna().sum())
        check(f["current_non_missing"] == finite and abs(f["current_missing_rate"] - (1 - finite / len(df))) < 1e-12,
              f"{name}: {col} compared on {f['current_non_missing']} values (pandas {finite}), "
              f"missing rate {f['current_missing_rate']:.3f}")
    nonfinite = {}
    for x in recs:
        for c, v in x["inputs"].items():
            if isinstance(v, float) and not math.isfinite(v):
                nonfinite[c] = nonfinite.get(c, 0) + 1
    got = dict(map(tuple, s["logs"]["non_finite_inputs"]))
    want = {c: n for c, n in nonfinite.items() if n}
    check(got == want, f"{name}: non-finite values per input {got} (pandas {want})")
    if duplicates is not None:
        check(s["logs"]["duplicate_keys"] == duplicates,
              f"{name}: {s['logs']['duplicate_keys']} repeated keys counted (generated {duplicates})")
    return s


def timestamps(binary, name, logs, reference=None):
    r, s, _ = run_case(binary, logs, OUT / f"report-{name}", reference, fail_on_drift=False)
    recs = records_of(logs)
    ts = pd.Series([x["ts"] for x in recs])
    parsed = pd.to_datetime(ts, format="ISO8601", utc=True)
    naive = int((~ts.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$")).sum())
    lg = s.get("logs", {})
    check(r.returncode == 0 and lg.get("records") == len(recs) and lg.get("records_without_ts") == 0,
          f"{name}: every record read with its time ({lg.get('records')} of {len(recs)}, "
          f"{lg.get('records_without_ts')} without time)")
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    check(lg.get("first_ts") == parsed.min().strftime(fmt) and lg.get("last_ts") == parsed.max().strftime(fmt),
          f"{name}: span {lg.get('first_ts')} .. {lg.get('last_ts')} as pandas")
    check(lg.get("records_with_naive_ts") == naive and any("UTC" in h for h in s.get("headline", [])),
          f"{name}: {naive} naive timestamps counted and said to be UTC ({lg.get('records_with_naive_ts')})")


def same_data(binary, d):
    r, s, _ = run_case(binary, d / "logs.jsonl", OUT / "report-same-data", d / "reference.csv")
    f = features(s).get("CODE_GENDER", {})
    unknown = next((b for b in f.get("bins", []) if b["label"].startswith("OTHER")), {})
    ref = pd.read_csv(d / "reference.csv")
    share = float((ref["CODE_GENDER"] == "XNA-unknown").mean())
    check(f.get("status") == "ok" and abs(unknown.get("reference_share", -1) - share) < 1e-12
          and abs(unknown.get("current_share", -1) - share) < 1e-12 and f.get("psi", 1) < 1e-12,
          f"same data as reference and logs: CODE_GENDER ok, unknown level {share:.3f} on both sides "
          f"(got {f.get('status')}, {unknown}, PSI {f.get('psi')})")
    inputs = {n: x["status"] for n, x in features(s).items() if x["status"] != "not_sent"}
    check(r.returncode == 0 and all(v == "ok" for v in inputs.values()),
          f"same data: every input ok, exit 0 (exit {r.returncode}: {inputs})")


def unusable(binary, name, logs):
    for flag in (False, True):
        r, _, _ = run_case(binary, logs, OUT / f"report-{name}", fail_on_drift=flag)
        check(r.returncode == 4 and "no usable log record" in r.stderr,
              f"{name}: exit 4 with the reason (fail-on-drift {flag}; exit {r.returncode}: {r.stderr.strip()[:160]})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--shared", type=Path, default=SHARED)
    a = ap.parse_args()
    binary = Path(a.bin).resolve()
    subprocess.run([sys.executable, ROOT / "tests" / "drift" / "gen_drift_cases.py", OUT, "--bin", binary,
                    "--bundle", BUNDLE], check=True)
    readme_traffic(binary, "readme-traffic", OUT / "readme-traffic" / "logs.jsonl")
    readme_shifted(binary, OUT / "readme-traffic-shifted" / "logs.jsonl")
    d = OUT / "score-drift-only"
    score_drift(binary, "score-drift-only", d / "logs.jsonl", d / "reference.csv", "drift", True)
    d = OUT / "refusal-doubled"
    score_drift(binary, "refusal-doubled", d / "logs.jsonl", d / "reference.csv", "ok", False)
    d = OUT / "nan-infinity"
    nan_infinity(binary, "nan-infinity", d / "logs.jsonl", duplicates=int((d / "duplicates.txt").read_text()))
    timestamps(binary, "naive-timestamps", OUT / "naive-timestamps" / "logs.jsonl")
    same_data(binary, OUT / "same-data")
    unusable(binary, "all-malformed", OUT / "all-malformed" / "logs.jsonl")
    unusable(binary, "empty", OUT / "empty" / "logs.jsonl")

    if a.shared.is_dir():
        print(f"-- shared cases in {a.shared}")
        sh = a.shared
        readme_traffic(binary, "shared-readme-traffic", sh / "readme-traffic" / "logs.jsonl.gz")
        d = sh / "score-drift-only"
        score_drift(binary, "shared-score-drift-only", d / "logs.jsonl.gz", d / "reference.csv.gz", "drift", True)
        d = sh / "nan-infinity-in-logs"
        s = nan_infinity(binary, "shared-nan-infinity", d / "logs.jsonl.gz", d / "reference.csv.gz")
        f = features(s)
        check(abs(f["EXT_SOURCE_3"]["current_missing_rate"] - 0.261) < 1e-12
              and f["DAYS_BIRTH"]["current_non_missing"] == 1000,
              "shared nan-infinity: EXT_SOURCE_3 missing 26.1 %, DAYS_BIRTH on 1,000 values")
        d = sh / "naive-timestamps"
        timestamps(binary, "shared-naive-timestamps", d / "logs.jsonl.gz", d / "reference.parquet")
    else:
        print(f"-- no shared cases at {a.shared}: project cases only")

    finish("\n{} drift case check(s) failed", "\nall drift case checks passed")


if __name__ == "__main__":
    main()
