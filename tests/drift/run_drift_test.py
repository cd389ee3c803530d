"""End-to-end test of `creditscore drift` through the CLI (run by `make test-drift`).

    .venv/bin/python tests/drift/run_drift_test.py --bin target/debug/creditscore \
        --fixture-bin target/debug/examples/drift_fixture_bundle

1. generates a reference sample and two log files (no drift, drift) with malformed lines and
   failed requests (tests/drift/gen_drift_data.py), and a bundle whose reference statistics come
   from that sample (cli/examples/drift_fixture_bundle.rs);
2. runs the report with `--fail-on-drift`: the no-drift logs must exit 0 with no feature in
   drift, the drifted logs must exit 3 with the shifted features in drift and the stable one not;
3. checks the malformed lines are counted and quoted, never fatal;
4. with `--reference reference.csv` (exact KS), recomputes every statistic independently with
   pandas + scipy on the same data: KS statistic within 1e-9 and p-value within 1e-6
   (scipy.stats.ks_2samp), PSI, chi-square (scipy.stats.chi2_contingency, two-sample) and missing rates;
   the same sample written as Parquet (pyarrow: snappy, zstd, gzip) gives the same statistics,
   and a file that is not Parquet gets a clear error;
5. checks the HTML has no script, does not grow with the number of log lines, and renders in
   headless Chromium (screenshot saved to tests/out/drift/drift_report.png).
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ALIASES, CATEGORICAL, NUMERIC, SENTINEL, check, features, finish, psi_deciles  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "out" / "drift"
GEN = ROOT / "tests" / "drift" / "gen_drift_data.py"
MALFORMED = 7


def run(cmd, expect_rc=None):
    r = subprocess.run([str(c) for c in cmd], check=False, capture_output=True, text=True)
    if expect_rc is not None and r.returncode != expect_rc:
        print(r.stdout, r.stderr, file=sys.stderr)
    return r


def generate(name, scenario, lines, seed):
    d = OUT / name
    subprocess.run([sys.executable, GEN, d, "--scenario", scenario, "--log-lines", str(lines),
                    "--malformed", str(MALFORMED), "--seed", str(seed)], check=True, capture_output=True)
    return d


def drift(binary, data, bundle, out, reference=None):
    cmd = [binary, "drift", "--logs", data / "logs.jsonl", "--bundle", bundle, "--out", out, "--fail-on-drift"]
    if reference:
        cmd += ["--reference", reference]
    r = run(cmd)
    summary = json.loads((out / "drift_summary.json").read_text()) if (out / "drift_summary.json").exists() else {}
    return r, summary


def current_values(logs_path):
    """The logs as pandas + json would read them: scored records only, inputs as columns."""
    rows = []
    for line in logs_path.read_text().splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(rec, dict) or rec.get("error") is not None or "inputs" not in rec:
            continue
        p = rec.get("probability")
        if not isinstance(p, (int, float)) or not 0 <= p <= 1:
            continue
        rows.append(rec["inputs"])
    return pd.DataFrame(rows)


def exact_parity(summary, data):
    ref = pd.read_csv(data / "reference.csv")
    cur = current_values(data / "logs.jsonl")
    feats = features(summary)
    for name in NUMERIC:
        r = ref[name].replace(SENTINEL, np.nan).dropna().to_numpy(float)
        c = pd.to_numeric(cur[name], errors="coerce").replace(SENTINEL, np.nan).dropna().to_numpy(float)
        expected = stats.ks_2samp(r, c, alternative="two-sided", method="auto")
        ks = feats[name]["ks"]
        check(abs(ks["statistic"] - expected.statistic) <= 1e-9,
              f"{name}: KS statistic {ks['statistic']:.12f} vs scipy {expected.statistic:.12f}")
        check(abs(ks["pvalue"] - expected.pvalue) <= 1e-6,
              f"{name}: KS p-value {ks['pvalue']:.6e} vs scipy {expected.pvalue:.6e}")
        psi = psi_deciles(r, c)
        check(abs(feats[name]["psi"] - psi) <= 1e-9, f"{name}: PSI {feats[name]['psi']:.6f} vs numpy {psi:.6f}")
        miss = 1 - len(c) / len(cur)
        check(abs(feats[name]["current_missing_rate"] - miss) <= 1e-12, f"{name}: missing rate {miss:.4f}")
    for name, levels in CATEGORICAL.items():
        values = cur[name].replace(ALIASES.get(name, {}))
        obs = np.array([(values == lv).sum() for lv in levels])
        ref_counts = np.array([(ref[name] == lv).sum() for lv in levels])
        # Two-sample test of homogeneity (the reference is a sample too), no continuity correction.
        expected = stats.chi2_contingency([ref_counts, obs], correction=False)
        chi = feats[name]["chi_square"]
        check(abs(chi["statistic"] - expected.statistic) <= 1e-9 * max(1, expected.statistic),
              f"{name}: chi-square {chi['statistic']:.6f} vs scipy {expected.statistic:.6f}")
        check(abs(chi["pvalue"] - expected.pvalue) <= 1e-6, f"{name}: chi-square p {chi['pvalue']:.6e}")


def comparable(summary):
    """What a report says about the data: the statistics, not where the reference came from."""
    return {"features": summary.get("features"), "score": summary.get("score"), "status": summary.get("status")}


def parquet_reference(binary, data, bundle, csv_path, csv_summary):
    """The reference sample as Parquet: the same report as from the CSV, for each codec."""
    # round_trip: the float64 values Rust parses from the CSV text, so both files hold the same numbers.
    ref = pd.read_csv(csv_path, float_precision="round_trip")
    for codec in ["snappy", "zstd", "gzip"]:
        path = OUT / f"reference_{codec}.parquet"
        ref.to_parquet(path, compression=codec, index=False)
        r, s = drift(binary, data, bundle, data / f"report_parquet_{codec}", reference=path)
        check(r.returncode == 3 and "panicked" not in r.stderr,
              f"drift with a {codec} Parquet reference: exit code {r.returncode} ({r.stderr.strip()[:200]})")
        check(s.get("reference", {}).get("exact_ks") is True, f"{codec} Parquet reference gives exact KS")
        check(comparable(s) == comparable(csv_summary), f"{codec} Parquet reference: same statistics as the CSV")
    junk = OUT / "not_parquet.parquet"
    junk.write_bytes(b"SK_ID_CURR,AMT_CREDIT\n1,2\n")
    r = run([binary, "drift", "--logs", data / "logs.jsonl", "--bundle", bundle, "--out", OUT / "x",
             "--reference", junk])
    check(r.returncode == 2 and "not_parquet.parquet" in r.stderr and "Parquet" in r.stderr
          and "panicked" not in r.stderr, f"not a Parquet file: exit 2 with a clear error ({r.stderr.strip()})")


def invalid_counts(cells, valid_max=None):
    """Python's view of a numeric column of text cells (float() per cell, as the CSV module
    would): {code: count} of the cells the scorer rejects, and the numbers (NaN = unparseable)."""
    text = cells.fillna("").astype(str).str.strip()

    def parse(t):
        try:
            return float(t)
        except ValueError:
            return np.nan

    num = text.map(parse).astype(float)
    counts = {
        "wrong_type": int(((text != "") & num.isna()).sum()),
        "not_finite": int(np.isinf(num).sum()),
        "out_of_range": int((np.isfinite(num) & ((num < 0) | (num > valid_max if valid_max else False))).sum()),
    }
    return {k: v for k, v in counts.items() if v}, num


def reference_cells(binary, data, bundle, csv_path):
    """Unparseable reference cells are counted per input and code (item 2 of issue 10), through
    the scorer's own reading; an out-of-schema level is an unknown level on both sides."""
    ref = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    ref.loc[0:36, "AMT_ANNUITY"] = "abc"
    ref.loc[37:41, "AMT_ANNUITY"] = "NA"
    ref.loc[50:52, "EXT_SOURCE_2"] = "1e400"
    ref.loc[53:55, "EXT_SOURCE_2"] = "1.7"
    ref.loc[60:99, "CODE_GENDER"] = "X"
    bad = OUT / "reference_bad_cells.csv"
    ref.to_csv(bad, index=False)
    logs = OUT / "bad_cells"
    logs.mkdir(exist_ok=True)
    lines, x_sent = [], 0
    for line in (data / "logs.jsonl").read_text().splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            rec = None
        if isinstance(rec, dict) and isinstance(rec.get("inputs"), dict) and rec.get("error") is None \
                and isinstance(rec.get("probability"), float) and x_sent < 25:
            rec["inputs"]["CODE_GENDER"] = "X"
            x_sent += 1
            line = json.dumps(rec)
        lines.append(line)
    (logs / "logs.jsonl").write_text("\n".join(lines) + "\n")
    r, s = drift(binary, logs, bundle, logs / "report", reference=bad)
    check(r.returncode in (0, 3) and "panicked" not in r.stderr,
          f"bad reference cells: report written ({r.stderr.strip()[:200]})")
    f = features(s)
    cur = current_values(logs / "logs.jsonl")
    for name, valid_max in [("AMT_ANNUITY", None), ("EXT_SOURCE_2", 1.0)]:
        expected, num = invalid_counts(ref[name], valid_max)
        got = dict(map(tuple, f[name]["reference_reading"]["invalid"]))
        check(got == expected, f"{name}: reference cells the scorer rejects {got} == pandas {expected}")
        ok = num[np.isfinite(num) & (num >= 0) & (num <= (valid_max or np.inf))].to_numpy(float)
        c = pd.to_numeric(cur[name], errors="coerce").dropna().to_numpy(float)
        expected_ks = stats.ks_2samp(ok, c)
        got = f[name]["ks"]["statistic"]
        check(abs(got - expected_ks.statistic) <= 1e-9,
              f"{name}: KS without the rejected cells {got:.9f} vs scipy {expected_ks.statistic:.9f}")
        got, expected = f[name]["reference_missing_rate"], 1 - len(ok) / len(ref)
        check(abs(got - expected) <= 1e-12,
              f"{name}: rejected cells count as missing in the reference missing rate ({got} vs {expected})")
    gender_ref = int((ref["CODE_GENDER"] == "X").sum())
    gender_cur = int((cur["CODE_GENDER"] == "X").sum())
    check(f["CODE_GENDER"]["reference_reading"]["unknown_levels"] == gender_ref
          and f["CODE_GENDER"]["current_reading"]["unknown_levels"] == gender_cur == x_sent,
          f"out-of-schema level: unknown on both sides ({gender_ref} reference, {gender_cur} logs), never missing")
    check(f["CODE_GENDER"]["reference_missing_rate"] == 0.0, "out-of-schema level is not missing in the reference")
    sentinel = int((ref["DAYS_EMPLOYED"] == str(SENTINEL)).sum())
    got = f["DAYS_EMPLOYED"]["reference_reading"]["sentinel"]
    check(got == sentinel, f"DAYS_EMPLOYED sentinel counted on its own in the reference: {got} == pandas {sentinel}")
    cur_sentinel = int((pd.to_numeric(cur["DAYS_EMPLOYED"], errors="coerce") == SENTINEL).sum())
    got = f["DAYS_EMPLOYED"]["current_reading"]["sentinel"]
    check(got == cur_sentinel, f"DAYS_EMPLOYED sentinel counted on its own in the logs: {got} == pandas {cur_sentinel}")
    total = 37 + 5 + 3 + 3
    check(any(f"{total} reference cells are values the scorer rejects" in h for h in s["headline"]),
          f"headline reports the {total} rejected reference cells: {s['headline']}")
    html = (logs / "report" / "drift_report.html").read_text()
    check("How the values were read" in html and "wrong_type 42" in html, "HTML table of rejected cells per input")

    # Parquet: a BOOLEAN column and a text column for numeric inputs.
    pq = pd.read_csv(csv_path, float_precision="round_trip")
    pq["FLAG_OWN_CAR"] = pq["FLAG_OWN_CAR"] == "Y"
    pq["AMT_CREDIT"] = pq["AMT_CREDIT"].map(repr)
    pq.loc[0:9, "AMT_CREDIT"] = "n/a"
    path = OUT / "reference_typed.parquet"
    pq.to_parquet(path, index=False)
    r, s = drift(binary, data, bundle, logs / "report_parquet", reference=path)
    f = features(s)
    got = dict(map(tuple, f["FLAG_OWN_CAR"]["reference_reading"]["invalid"]))
    check(got == {"wrong_type": len(pq)},
          f"boolean Parquet column for a Y/N input without true/false spellings: {got} rejected, not missing")
    expected, _ = invalid_counts(pq["AMT_CREDIT"])
    got = dict(map(tuple, f["AMT_CREDIT"]["reference_reading"]["invalid"]))
    check(got == expected == {"wrong_type": 10}, f"Parquet text column for a numeric input: {got} == pandas {expected}")


def by_version(binary, stable, shifted, bundle, reference):
    """--by-version: one section per model_version, each judged on its own records."""
    d = OUT / "by_version"
    d.mkdir(exist_ok=True)
    lines = []
    for src, version in [(stable, "test-1"), (shifted, "test-2")]:
        for line in (src / "logs.jsonl").read_text().splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(rec, dict) and "request_id" in rec:
                rec["model_version"] = version
                rec["request_id"] = f"{version}-{rec['request_id']}"
                lines.append(json.dumps(rec))
    (d / "logs.jsonl").write_text("\n".join(lines) + "\n")
    cmd = [binary, "drift", "--logs", d / "logs.jsonl", "--bundle", bundle, "--out", d / "report",
           "--reference", reference, "--by-version"]
    r = run(cmd)
    s = json.loads((d / "report" / "drift_summary.json").read_text())
    sections = {v["model_version"]: v for v in s.get("by_version", [])}
    check(sorted(sections) == ["test-1", "test-2"], f"--by-version: one section per version ({sorted(sections)})")
    check(sections["test-1"]["status"] == "ok" and sections["test-1"]["is_bundle_version"],
          f"--by-version: the stable version is ok ({sections['test-1']['verdict']['reasons']})")
    check(sections["test-2"]["status"] == "drift", "--by-version: the shifted version drifts")
    check(s["status"] == "drift" and r.returncode == 0, "--by-version: overall status of all records, exit 0")
    ref = pd.read_csv(reference)
    recs = [json.loads(ln) for ln in lines]
    for version, section in sections.items():
        ok = [x for x in recs if x["model_version"] == version and x.get("error") is None]
        cur = pd.DataFrame([x["inputs"] for x in ok])
        check(section["records"] == sum(x["model_version"] == version for x in recs),
              f"--by-version {version}: {section['records']} records")
        f = {x["name"]: x for x in section["features"]}
        r_v = ref["EXT_SOURCE_2"].dropna().to_numpy(float)
        c_v = pd.to_numeric(cur["EXT_SOURCE_2"], errors="coerce").dropna().to_numpy(float)
        expected = stats.ks_2samp(r_v, c_v)
        got = f["EXT_SOURCE_2"]["ks"]["statistic"]
        check(abs(got - expected.statistic) <= 1e-9,
              f"--by-version {version}: EXT_SOURCE_2 KS {got:.9f} vs scipy on that version's records "
              f"{expected.statistic:.9f}")
        refused = [x["prediction"] for x in ok if x.get("prediction") is not None]
        rate = section["refusal"]["current_rate"]
        check(abs(rate - np.mean(refused)) <= 1e-12, f"--by-version {version}: refusal rate {rate:.4f}")
    html = (d / "report" / "drift_report.html").read_text()
    check("By model version" in html and "test-2" in html, "HTML has the by-version section")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, type=Path)
    ap.add_argument("--fixture-bin", required=True, type=Path)
    ap.add_argument("--chromium", default="chromium")
    a = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)

    none = generate("none", "none", 5000, 2)
    drifted = generate("drift", "drift", 5000, 3)
    bigger = generate("none_big", "none", 20000, 4)
    bundle = OUT / "bundle.csb"
    subprocess.run([a.fixture_bin, none / "reference.csv", bundle], check=True, capture_output=True)

    r, s = drift(a.bin, none, bundle, none / "report")
    check(r.returncode == 0, f"no drift: exit code {r.returncode} == 0")
    check(not any(f["status"] == "drift" for f in s.get("features", [])), "no drift: no feature in drift")
    check(s.get("status") == "ok", f"no drift: overall status {s.get('status')}")

    r, s = drift(a.bin, drifted, bundle, drifted / "report")
    check(r.returncode == 3, f"drift: exit code {r.returncode} == 3 (--fail-on-drift)")
    f = features(s)
    for name in ["EXT_SOURCE_2", "AMT_CREDIT", "CODE_GENDER", "DAYS_EMPLOYED"]:
        check(f.get(name, {}).get("status") == "drift", f"drift: {name} is in drift ({f.get(name, {}).get('reasons')})")
    check(f.get("FLAG_OWN_CAR", {}).get("status") == "ok", "drift: FLAG_OWN_CAR (unchanged) is ok")
    check(s["features"][0]["status"] == "drift", "drifted features listed first")
    check(s["score"]["comparison"]["status"] == "drift", "drift: score distribution in drift")
    check(s["logs"]["malformed_lines"] == MALFORMED, f"malformed lines counted: {s['logs']['malformed_lines']}")
    check(len(s["logs"]["malformed_examples"]) == MALFORMED, "malformed lines quoted with their line numbers")
    check(s["logs"]["errors"] > 0 and 0 < s["logs"]["error_share"] < 0.05, "failed requests counted")
    html = (drifted / "report" / "drift_report.html").read_text()
    check("<script" not in html.lower(), "HTML has no JavaScript")
    check(f"<b>{MALFORMED}</b> malformed" in html, "HTML reports the malformed lines")
    check(html.index("EXT_SOURCE_2") < html.index("FLAG_OWN_CAR"), "HTML lists drifted features first")

    # Exact statistics with the reference sample, against pandas + scipy on the same data.
    r, s = drift(a.bin, drifted, bundle, drifted / "report_exact", reference=none / "reference.csv")
    check(r.returncode == 3, f"drift with --reference: exit code {r.returncode}")
    check(s["reference"]["exact_ks"] is True, "reference CSV gives exact KS")
    exact_parity(s, drifted)
    parquet_reference(a.bin, drifted, bundle, none / "reference.csv", s)
    reference_cells(a.bin, drifted, bundle, none / "reference.csv")
    by_version(a.bin, none, drifted, bundle, none / "reference.csv")

    # Report size does not depend on the number of log lines.
    r, _ = drift(a.bin, bigger, bundle, bigger / "report")
    small = (none / "report" / "drift_report.html").stat().st_size
    big = (bigger / "report" / "drift_report.html").stat().st_size
    check(abs(big - small) / small < 0.05, f"HTML size independent of log length ({small} vs {big} bytes, 4x lines)")

    # Bad input: clear errors, no panic.
    r = run([a.bin, "drift", "--logs", OUT / "missing.jsonl", "--bundle", bundle, "--out", OUT / "x"])
    check(r.returncode == 1 and "missing.jsonl" in r.stderr and "panicked" not in r.stderr,
          f"missing log file: exit 1 with the path ({r.stderr.strip()})")
    r = run([a.bin, "drift", "--logs", none / "logs.jsonl", "--bundle", none / "reference.csv", "--out", OUT / "x"])
    check(r.returncode == 2 and "panicked" not in r.stderr, f"not a bundle: exit 2 ({r.stderr.strip()})")

    # Hostile logs: huge values, a line over the length limit, binary junk, far-away timestamps.
    hostile = OUT / "hostile"
    hostile.mkdir(exist_ok=True)
    good = [ln for ln in (none / "logs.jsonl").read_bytes().splitlines()[:300] if b'"probability":0.' in ln]
    base = json.loads(good[0])
    huge_level = dict(base, inputs=dict(base["inputs"], CODE_GENDER="X" * 1_000_000))
    # Other request ids: the reader counts a record repeated by (request_id, record_index) once.
    huge_level["request_id"] = "hostile-huge"
    far_future = dict(base, ts="9999-12-31T23:59:59Z", request_id="hostile-future")
    far_past = dict(base, ts="0001-01-01T00:00:00Z", request_id="hostile-past")
    lines = [*good, json.dumps(huge_level).encode(), b"{" + b"x" * (5 << 20), b"\xff\xfe\x00garbage",
             json.dumps(far_future).encode(), json.dumps(far_past).encode()]
    (hostile / "logs.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    r, s = drift(a.bin, hostile, bundle, hostile / "report")
    size = (hostile / "report" / "drift_report.html").stat().st_size if (hostile / "report").exists() else 0
    check(r.returncode in (0, 3) and "panicked" not in r.stderr and s.get("logs", {}).get("malformed_lines") == 2,
          f"hostile logs: report written, 2 malformed lines ({s.get('logs', {}).get('malformed_lines')})")
    check(0 < size < 200_000, f"hostile logs: HTML stays small ({size} bytes)")
    # The two far-away timestamps do not flatten the time chart: counted, left out of it.
    times = pd.to_datetime([json.loads(ln)["ts"] for ln in good])
    over = s.get("score", {}).get("over_time", [])
    start = pd.Timestamp(over[0]["start"], unit="s", tz="UTC") if over else None
    end = pd.Timestamp(over[-1]["start"] + over[-1]["seconds"], unit="s", tz="UTC") if over else None
    out = s.get("score", {}).get("time_outliers", {})
    check(out.get("records") == 2 and out.get("first", "").startswith("0001-01-01")
          and out.get("last", "").startswith("9999-12-31"),
          f"hostile logs: 2 far-away timestamps counted outside the chart ({out})")
    check(start is not None and start <= times.min() and end > times.max()
          and (end - start) <= 3 * (times.max() - times.min()) + pd.Timedelta(hours=2),
          f"hostile logs: the chart spans the bulk of the records ({start} to {end}; "
          f"records {times.min()} to {times.max()})")
    check(sum(p["counts"]["records"] for p in over) == len(good) + 1,
          "hostile logs: every record but the far-away ones is in the chart")

    png = OUT / "drift_report.png"
    png.unlink(missing_ok=True)
    r = run([a.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             f"--screenshot={png}", "--window-size=1280,2000", (drifted / "report" / "drift_report.html").as_uri()])
    size = png.stat().st_size if png.exists() else 0
    check(size > 20_000, f"Chromium screenshot {png} ({size} bytes)")

    # The report in Chromium through Playwright: reasons, overlaid histograms, 375 px phones.
    env = dict(os.environ, DRIFT_REPORT=str(drifted / "report" / "drift_report.html"), CREDITSCORE_OUT=str(OUT))
    r = subprocess.run(["node", "--test", ROOT / "tests" / "browser" / "drift_report.test.mjs"], env=env,
                       capture_output=True, text=True, check=False)
    check(r.returncode == 0, "drift report in Chromium (tests/browser/drift_report.test.mjs): "
          + ("passed" if r.returncode == 0 else r.stdout[-3000:] + r.stderr[-2000:]))

    finish("{} check(s) failed", "drift end-to-end: all checks passed")


if __name__ == "__main__":
    main()
