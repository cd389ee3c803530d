"""Synthetic reference data and prediction logs for the drift report tests and benchmark.

    .venv/bin/python tests/drift/gen_drift_data.py OUT_DIR --reference-rows 5000 \
        --log-lines 5000 --scenario drift --malformed 7 --seed 1

writes OUT_DIR/reference.csv (the "training sample") and OUT_DIR/logs.jsonl (prediction log
records as docs/API.md describes them, including failed requests and deliberately malformed
lines). The logged probabilities come from the same hand-written trees as
cli/examples/drift_fixture_bundle.rs, so the score distribution of a no-drift scenario matches
the bundle's reference scores.

Scenarios: `none` (same distributions as the reference), `drift` (EXT_SOURCE_2 and AMT_CREDIT
shifted, CODE_GENDER rebalanced, DAYS_EMPLOYED missing far more often; AMT_ANNUITY and
FLAG_OWN_CAR unchanged).
"""

import argparse
import json
import math
from pathlib import Path

import numpy as np

SENTINEL = 365243
START_TS = np.datetime64("2026-11-20T00:00:00", "s")
THRESHOLD = 0.3


def draw(rng, n, scenario):
    drift = scenario == "drift"
    credit = np.round(rng.lognormal(13.0 + (0.35 if drift else 0.0), 0.5, n), 1)
    annuity = np.round(credit / rng.uniform(10, 30, n), 1)
    ext2 = np.round(rng.beta(2, 3, n) if drift else rng.beta(4, 2, n), 6)
    ext2[rng.random(n) < 0.002] = np.nan
    days = -np.floor(rng.exponential(2000, n))
    days[rng.random(n) < 0.18] = SENTINEL
    days[rng.random(n) < (0.25 if drift else 0.0)] = np.nan
    gender = np.where(rng.random(n) < (0.5 if drift else 0.658), "F", "M")
    car = np.where(rng.random(n) < 0.66, "N", "Y")
    return {"AMT_CREDIT": credit, "AMT_ANNUITY": annuity, "EXT_SOURCE_2": ext2, "DAYS_EMPLOYED": days,
            "CODE_GENDER": gender, "FLAG_OWN_CAR": car}


def probability(cols):
    """The fixture bundle's trees (cli/examples/drift_fixture_bundle.rs), vectorised."""
    ext2, credit, days = cols["EXT_SOURCE_2"], cols["AMT_CREDIT"], cols["DAYS_EMPLOYED"]
    t1 = np.where(np.isnan(ext2) | (ext2 <= 0.3), 1.2, np.where(ext2 <= 0.6, 0.2, -0.9))
    t2 = np.where(np.isnan(credit) | (credit <= 600_000), -0.25, 0.35)
    t3 = np.where(cols["CODE_GENDER"] == "M", 0.3, -0.15)
    days_missing = np.isnan(days) | (days == SENTINEL)
    t4 = np.where(days_missing | (days <= -1000), -0.1, 0.4)
    return 1.0 / (1.0 + np.exp(-(-2.0 + t1 + t2 + t3 + t4)))


def write_reference(path, cols, n):
    with open(path, "w") as f:
        f.write("SK_ID_CURR,AMT_CREDIT,AMT_ANNUITY,EXT_SOURCE_2,DAYS_EMPLOYED,CODE_GENDER,FLAG_OWN_CAR\n")
        rows = zip(range(100000, 100000 + n), cols["AMT_CREDIT"].tolist(), cols["AMT_ANNUITY"].tolist(),
                   cols["EXT_SOURCE_2"].tolist(), cols["DAYS_EMPLOYED"].tolist(), cols["CODE_GENDER"].tolist(),
                   cols["FLAG_OWN_CAR"].tolist(), strict=True)
        for i, c, a, e, d, g, car in rows:
            e = "" if math.isnan(e) else repr(e)
            d = "" if math.isnan(d) else str(int(d))
            f.write(f"{i},{c!r},{a!r},{e},{d},{g},{car}\n")


MALFORMED = [
    '{"ts": "2026-11-20T00:00:00Z", "probability": 0.2, "inputs": {',  # truncated
    "[1, 2, 3]",
    "not json at all",
    '{"ts": "yesterday", "probability": 0.1, "prediction": 0, "inputs": {}}',
    '{"ts": "2026-11-20T00:00:00Z", "probability": "high", "inputs": {}}',
    '{"ts": "2026-11-20T00:00:00Z", "probability": 7.5, "prediction": 1, "inputs": {}}',
    '{"request_id": "only-an-id"}',
]


def log_lines(rng, cols, n, malformed, error_share, span_seconds):
    """Yields the JSONL lines (without newline) in time order."""
    prob_array = probability(cols)
    pred = (prob_array >= THRESHOLD).astype(int).tolist()
    prob = prob_array.tolist()
    latency = np.round(rng.lognormal(6.5, 0.4, n)).astype(int).tolist()
    ts = START_TS + np.sort(rng.integers(0, span_seconds, n)).astype("timedelta64[s]")
    ts_text = np.datetime_as_string(ts, unit="s").tolist()
    is_error = (rng.random(n) < error_share).tolist()
    bad_at = set(rng.choice(n, size=min(malformed, n), replace=False).tolist()) if malformed else set()
    car_alias = (rng.random(n) < 0.05).tolist()
    credit, annuity = cols["AMT_CREDIT"].tolist(), cols["AMT_ANNUITY"].tolist()
    ext2, days = cols["EXT_SOURCE_2"].tolist(), cols["DAYS_EMPLOYED"].tolist()
    gender, car = cols["CODE_GENDER"].tolist(), cols["FLAG_OWN_CAR"].tolist()
    for i in range(n):
        if i in bad_at:
            yield MALFORMED[i % len(MALFORMED)]
            continue
        head = (f'{{"ts":"{ts_text[i]}Z","request_id":"req-{i}","record_index":0,"endpoint":"/predict",'
                f'"model_version":"test-1"')
        if is_error[i]:
            yield (head + ',"threshold":null,"source":"api","status":422,"client_id_hash":null,"warnings":[],'
                   '"probability":null,"prediction":null,"error":{"code":"validation_error",'
                   f'"message":"1 invalid field","issues":1}},"latency_us":{latency[i]}}}')
            continue
        warnings = []
        e = ext2[i]
        d = days[i]
        if d == SENTINEL:
            warnings.append('{"field":"DAYS_EMPLOYED","code":"sentinel_value","message":"not employed"}')
        if credit[i] > 2_000_000:
            warnings.append('{"field":"AMT_CREDIT","code":"outside_training_range","message":"above training"}')
        c = ("Yes" if car[i] == "Y" else "No") if car_alias[i] else car[i]
        inputs = (f'"AMT_CREDIT":{credit[i]!r},"AMT_ANNUITY":{annuity[i]!r},'
                  f'"EXT_SOURCE_2":{"null" if math.isnan(e) else repr(e)},'
                  + ("" if math.isnan(d) else f'"DAYS_EMPLOYED":{int(d)},')
                  + f'"CODE_GENDER":"{gender[i]}","FLAG_OWN_CAR":"{c}"')
        yield (head + f',"threshold":{THRESHOLD},"source":"api","status":200,"client_id_hash":"h{i:x}",'
               f'"inputs":{{{inputs}}},"warnings":[{",".join(warnings)}],"probability":{prob[i]!r},'
               f'"prediction":{pred[i]},"latency_us":{latency[i]}}}')


def write_logs(path, rng, scenario, n, malformed, error_share, span_seconds, chunk=500_000):
    written = 0
    with open(path, "w") as f:
        while written < n:
            m = min(chunk, n - written)
            cols = draw(rng, m, scenario)
            # Spread each chunk over its own slice of the span so timestamps stay ordered.
            f.write("\n".join(log_lines(rng, cols, m, malformed if written == 0 else 0, error_share,
                                        max(1, span_seconds * m // n))))
            f.write("\n")
            written += m


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--reference-rows", type=int, default=5000)
    ap.add_argument("--log-lines", type=int, default=5000)
    ap.add_argument("--scenario", choices=["none", "drift"], default="none")
    ap.add_argument("--malformed", type=int, default=0)
    ap.add_argument("--error-share", type=float, default=0.01)
    ap.add_argument("--span-hours", type=float, default=72)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-reference", action="store_true", help="only write the logs")
    a = ap.parse_args()
    a.out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    if not a.no_reference:
        write_reference(a.out_dir / "reference.csv", draw(np.random.default_rng(12345), a.reference_rows, "none"),
                        a.reference_rows)
    write_logs(a.out_dir / "logs.jsonl", rng, a.scenario, a.log_lines, a.malformed, a.error_share,
               int(a.span_hours * 3600))
    print(json.dumps({"out_dir": str(a.out_dir), "scenario": a.scenario, "log_lines": a.log_lines,
                      "malformed": a.malformed}))


if __name__ == "__main__":
    main()
