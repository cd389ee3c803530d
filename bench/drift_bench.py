"""Benchmark `creditscore drift` against pandas + scipy computing the same statistics on the same
data, in the same run (`make bench-drift`, or directly):

    .venv/bin/python bench/drift_bench.py --lines 10000000 --bin target/release/creditscore \
        --fixture-bin target/release/examples/drift_fixture_bundle

Generates (once, cached under out/drift_bench/) a 50 000-row reference sample and N log lines in
the prediction log format (docs/API.md) with drifted inputs (tests/drift/gen_drift_data.py), builds a bundle
from the reference, then times, each under /usr/bin/time -v (wall time, peak RSS):
  1. creditscore drift with the bundle's reference statistics (percentiles),
  2. creditscore drift --reference reference.csv (exact KS against the full sample),
  3. pandas + scipy: pandas.read_json(lines=True) in chunks, inputs flattened with
     json_normalize, then scipy.stats.ks_2samp (exact reference), decile PSI, chisquare,
     false_discovery_control, missing rates, score KS, refusal rate per hour, latency
     percentiles, error share, warning counts.
Prints lines/s and peak memory of each, and the largest KS statistic difference between the
exact CLI run and scipy. The logs have no malformed lines: pandas.read_json stops at the first one.
"""

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "drift"))
from common import ALIASES, CATEGORICAL, NUMERIC, SENTINEL, psi, psi_deciles  # noqa: E402


def timed(cmd):
    """Runs cmd under /usr/bin/time -v; returns (wall s, CPU s (user + system), peak RSS MiB, process)."""
    t0 = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-v", *map(str, cmd)], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0

    def field(name):
        m = re.search(name + r": ([0-9.]+)", r.stderr)
        return float(m.group(1)) if m else float("nan")

    rss = field(r"Maximum resident set size \(kbytes\)") / 1024
    cpu = field(r"User time \(seconds\)") + field(r"System time \(seconds\)")
    return wall, cpu, rss, r


def pandas_report(logs, reference, out):
    """The same statistics with pandas + scipy (run in its own process, timed from outside)."""
    import numpy as np
    import pandas as pd
    from gen_drift_data import probability
    from scipy import stats

    ref = pd.read_csv(reference)
    numeric = {k: [] for k in NUMERIC}
    present = {k: 0 for k in NUMERIC}
    cats = {k: pd.Series(dtype="int64") for k in CATEGORICAL}
    probs, preds, lat, hours, warn = [], [], [], [], []
    records = errors = 0
    # precise_float: the default fast parser rounds some decimals differently from the file (and
    # from read_csv), which moves values across ties with the reference.
    for chunk in pd.read_json(logs, lines=True, chunksize=500_000, dtype=False, precise_float=True):
        records += len(chunk)
        lat.append(chunk["latency_us"].to_numpy(float))
        err = chunk["error"].notna() if "error" in chunk else pd.Series(False, index=chunk.index)
        errors += int(err.sum())
        ok = chunk[~err]
        probs.append(ok["probability"].to_numpy(float))
        preds.append(ok["prediction"].to_numpy(float))
        hours.append(pd.to_datetime(ok["ts"]).dt.floor("h").to_numpy())
        inputs = pd.json_normalize(ok["inputs"].tolist())
        for k in NUMERIC:
            col = pd.to_numeric(inputs.get(k, pd.Series(dtype=float)), errors="coerce").replace(SENTINEL, np.nan)
            numeric[k].append(col.dropna().to_numpy(float))
            present[k] += len(inputs)
        for k in CATEGORICAL:
            cats[k] = cats[k].add(inputs[k].replace(ALIASES.get(k, {})).value_counts(), fill_value=0)
        w = ok["warnings"].explode().dropna()
        if len(w):
            w = pd.json_normalize(w.tolist())
            warn.append(w.groupby(["field", "code"]).size())
    result = {"features": {}}
    pvalues = []
    for k in NUMERIC:
        cur = np.concatenate(numeric[k])
        r = ref[k].replace(SENTINEL, np.nan).dropna().to_numpy(float)
        ks = stats.ks_2samp(r, cur, alternative="two-sided", method="auto")
        result["features"][k] = {"ks": float(ks.statistic), "p": float(ks.pvalue), "psi": psi_deciles(r, cur),
                                 "missing_rate": 1 - len(cur) / present[k]}
        pvalues.append(ks.pvalue)
    for k, levels in CATEGORICAL.items():
        obs = np.array([cats[k].get(lv, 0) for lv in levels], float)
        shares = np.array([(ref[k] == lv).mean() for lv in levels])
        chi = stats.chisquare(obs, shares / shares.sum() * obs.sum())
        result["features"][k] = {"chi2": float(chi.statistic), "p": float(chi.pvalue),
                                 "psi": psi(shares, obs / obs.sum())}
        pvalues.append(chi.pvalue)
    adjusted = stats.false_discovery_control(pvalues, method="bh")
    for f, p in zip(result["features"].values(), adjusted, strict=True):
        f["p_adjusted"] = float(p)
    ref_cols = {k: ref[k].to_numpy() for k in ["EXT_SOURCE_2", "AMT_CREDIT", "DAYS_EMPLOYED", "CODE_GENDER"]}
    ref_scores = probability({k: (v.astype(float) if k != "CODE_GENDER" else v) for k, v in ref_cols.items()})
    p = np.concatenate(probs)
    result["score_ks"] = float(stats.ks_2samp(ref_scores, p).statistic)
    pr = np.concatenate(preds)
    result["refusal_rate"] = float(pr.mean())
    result["refusal_by_hour"] = int(pd.Series(pr).groupby(np.concatenate(hours)).mean().size)
    latency = np.concatenate(lat)
    result["latency_p50_p90_p99"] = [float(x) for x in np.percentile(latency, [50, 90, 99])]
    result["error_share"] = errors / records
    result["warnings"] = int(pd.concat(warn).groupby(level=[0, 1]).sum().sum()) if warn else 0
    Path(out).write_text(json.dumps(result, indent=1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=10_000_000)
    ap.add_argument("--bin", type=Path, default=ROOT / "target" / "release" / "creditscore")
    examples = ROOT / "target" / "release" / "examples"
    ap.add_argument("--fixture-bin", type=Path, default=examples / "drift_fixture_bundle")
    ap.add_argument("--work", type=Path, default=ROOT / "out" / "drift_bench")
    ap.add_argument("--pandas-only", nargs=3, metavar=("LOGS", "REFERENCE", "OUT"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.pandas_only:
        pandas_report(*a.pandas_only)
        return

    work = a.work / f"{a.lines}"
    logs, reference, bundle = work / "logs.jsonl", work / "reference.csv", work / "bundle.csb"
    meta = work / "meta.json"
    want = {"lines": a.lines, "scenario": "drift", "reference_rows": 50000, "seed": 7}
    if not (meta.exists() and json.loads(meta.read_text()) == want and logs.exists()):
        print(f"generating {a.lines} log lines in {work} ...", flush=True)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, ROOT / "tests" / "drift" / "gen_drift_data.py", work, "--scenario", "drift",
                        "--log-lines", str(a.lines), "--reference-rows", "50000", "--seed", "7",
                        "--malformed", "0"], check=True, capture_output=True)
        meta.write_text(json.dumps(want))
        print(f"  generated in {time.perf_counter() - t0:.0f} s", flush=True)
    subprocess.run([a.fixture_bin, reference, bundle], check=True, capture_output=True)
    size_mb = logs.stat().st_size / 2**20
    print(f"logs: {a.lines} lines, {size_mb:.0f} MiB; reference: 50000 rows\n", flush=True)

    rows = []
    for label, extra in [("creditscore drift (bundle percentiles)", []),
                         ("creditscore drift --reference CSV (exact KS)", ["--reference", reference])]:
        out = work / ("report_" + ("csv" if extra else "bundle"))
        wall, cpu, rss, r = timed([a.bin, "drift", "--logs", logs, "--bundle", bundle, "--out", out, *extra])
        if r.returncode not in (0, 3):
            print(r.stdout, r.stderr, file=sys.stderr)
            sys.exit(f"{label} failed with exit code {r.returncode}")
        rows.append((label, wall, cpu, rss))
        print(f"{label}: {wall:.1f} s wall, {cpu:.1f} s CPU, {a.lines / wall:,.0f} lines/s, peak RSS {rss:.0f} MiB",
              flush=True)

    pandas_out = work / "pandas_result.json"
    wall, cpu, rss, r = timed([sys.executable, __file__, "--pandas-only", logs, reference, pandas_out])
    if r.returncode != 0:
        print(r.stderr[-3000:], file=sys.stderr)
        sys.exit("pandas + scipy run failed")
    rows.append(("pandas + scipy (same statistics)", wall, cpu, rss))
    print(f"pandas + scipy: {wall:.1f} s wall, {cpu:.1f} s CPU, {a.lines / wall:,.0f} lines/s, peak RSS {rss:.0f} MiB",
          flush=True)

    # Agreement of the exact run with scipy.
    cli = {f["name"]: f for f in json.loads((work / "report_csv" / "drift_summary.json").read_text())["features"]}
    py = json.loads(pandas_out.read_text())["features"]
    d_ks = max(abs(cli[k]["ks"]["statistic"] - py[k]["ks"]) for k in NUMERIC)
    d_p = max(abs(cli[k]["ks"]["pvalue"] - py[k]["p"]) for k in NUMERIC)
    d_psi = max(abs(cli[k]["psi"] - py[k]["psi"]) for k in py)

    print(f"\n{'':46} {'wall s':>7} {'CPU s':>7} {'lines/s':>11} {'lines/CPU-s':>12} {'peak RSS MiB':>13} "
          f"{'speed-up':>9}")
    base = rows[-1][1]
    for label, wall, cpu, rss in rows:
        print(f"{label:46} {wall:7.1f} {cpu:7.1f} {a.lines / wall:11,.0f} {a.lines / cpu:12,.0f} {rss:13.0f} "
              f"{base / wall:8.1f}x")
    print("(lines/s = lines / wall time; the machine's 2 cores are shared, so CPU time is the steadier figure)")
    print(f"\nexact CLI run vs scipy: max |KS D diff| = {d_ks:.2e}, max |KS p diff| = {d_p:.2e}, "
          f"max |PSI diff| = {d_psi:.2e}")


if __name__ == "__main__":
    main()
