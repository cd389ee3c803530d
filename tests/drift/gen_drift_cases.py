"""Generates the drift-report cases (run by tests/drift/run_drift_cases.py; `make test-drift`).

    .venv/bin/python tests/drift/gen_drift_cases.py OUT_DIR --bin target/debug/creditscore \
        --bundle models/default.csb

Project-owned equivalents of the inputs the report used to get wrong (reproductions kept outside
this repository),
each a folder with `logs.jsonl` and, where needed, `reference.csv`:

- readme-traffic: clients that send only the bundle's required inputs (as README.md's example
  does), values drawn from the bundle's own reference statistics, scored by the bundle
  (`creditscore predict`), logged under the bundle's version;
- readme-traffic-shifted: the same traffic with EXT_SOURCE_2 lowered by 0.15;
- score-drift-only: inputs drawn like the reference sample, logged probabilities three times
  the model's (and refusals following them) under another model version;
- refusal-doubled: the reference inputs, refusal decisions of twice the reference rate;
- nan-infinity: Python's json.dumps output with NaN in EXT_SOURCE_3, Infinity in AMT_CREDIT, the
  literal 1e400 in AMT_ANNUITY, plus repeated keys (top level and inputs);
- same-data: one sample as reference and as logs, levels in other case and an unknown level;
- naive-timestamps: `ts` without a zone, with `+0000`, with and without fractional seconds;
- all-malformed: no usable line; empty: no line at all.

Every value is drawn with a seeded generator: the files are the same on every run.
"""

import argparse
import json
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from demo_traffic import bundle_header, from_quantiles  # noqa: E402

START = datetime(2026, 11, 20, tzinfo=UTC)


def draw(rng, field, ref, shift=None):
    """One value of a required input, as a client following the reference would send it."""
    if rng.random() < ref.get("missing_rate", 0.0):
        if field.get("nullable"):
            return None
        if field.get("sentinel") is not None:
            return float(field["sentinel"])  # DAYS_EMPLOYED's "not available" code
    if ref["type"] == "numeric":
        v = from_quantiles(ref["quantiles"], rng.random())
        if shift:
            v += shift
        lo, hi = field.get("valid_min"), field.get("valid_max")
        v = max(v, lo) if lo is not None else v
        v = min(v, hi) if hi is not None else v
        return float(round(v)) if field.get("integer") else round(v, 6)
    return rng.choices(ref["levels"], weights=ref["proportions"])[0]


def draw_records(header, n, seed, shift=None):
    """`n` records of the bundle's required inputs; `shift` = {name: added value}."""
    schema, reference = header["schema"], header["reference"]
    refs = {f["name"]: f for f in reference["features"]}
    rng = random.Random(seed)
    required = [f for f in schema["inputs"] if f.get("required") and f["name"] in refs]
    records = []
    for _ in range(n):
        rec = {}
        for field in required:
            rec[field["name"]] = draw(rng, field, refs[field["name"]], (shift or {}).get(field["name"]))
        records.append(rec)
    return records


def score(binary, bundle, records, work):
    """The bundle's probabilities for the records, through `creditscore predict` (JSONL)."""
    src, dst = work / "to_score.jsonl", work / "scores.jsonl"
    with src.open("w") as f:
        for i, r in enumerate(records):
            f.write(json.dumps({"SK_ID_CURR": 100000 + i, **r}) + "\n")
    subprocess.run([binary, "predict", "--bundle", bundle, "--input", src, "--out", dst], check=True,
                   capture_output=True)
    out = [json.loads(line)["probability"] for line in dst.read_text().splitlines() if line.strip()]
    src.unlink()
    dst.unlink()
    assert len(out) == len(records)
    return out


def log_line(i, inputs, probability, threshold, version, ts=None, refused=None):
    if refused is None:
        refused = probability >= threshold
    return {
        "ts": ts or (START + timedelta(seconds=20 * i)).isoformat().replace("+00:00", "Z"),
        "request_id": f"r{i}", "record_index": 0, "endpoint": "/predict", "model_version": version,
        "threshold": threshold, "source": "api", "status": 200, "client_id_hash": None,
        "inputs": inputs, "warnings": [], "probability": probability, "prediction": int(refused),
        "latency_us": 900 + i % 500,
    }


def write_jsonl(path, objects):
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        for o in objects:
            f.write((o if isinstance(o, str) else json.dumps(o)) + "\n")


def write_reference(path, records):
    import pandas as pd

    df = pd.DataFrame(records)
    df.insert(0, "SK_ID_CURR", range(200000, 200000 + len(df)))
    df.to_csv(path, index=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--bundle", default="models/default.csb")
    a = ap.parse_args()
    out = a.out
    out.mkdir(parents=True, exist_ok=True)
    header = bundle_header(a.bundle, a.bin)
    version, threshold = header["meta"]["version"], header["threshold"]

    # README traffic, plain and with EXT_SOURCE_2 shifted.
    for name, shift in [("readme-traffic", None), ("readme-traffic-shifted", {"EXT_SOURCE_2": -0.15})]:
        recs = draw_records(header, 4000, seed=10, shift=shift)
        probs = score(a.bin, a.bundle, recs, out)
        write_jsonl(out / name / "logs.jsonl",
                    [log_line(i, r, p, threshold, version) for i, (r, p) in enumerate(zip(recs, probs, strict=True))])

    # A reference sample and logs drawn alike; the logged model triples the probabilities.
    ref = draw_records(header, 3000, seed=20)
    cur = draw_records(header, 3000, seed=21)
    probs = score(a.bin, a.bundle, cur, out)
    d = out / "score-drift-only"
    d.mkdir(exist_ok=True)
    write_reference(d / "reference.csv", ref)
    tripled = [min(1.0, 3 * p) for p in probs]
    write_jsonl(d / "logs.jsonl", [log_line(i, r, p, threshold, "recalibrated-2")
                                   for i, (r, p) in enumerate(zip(cur, tripled, strict=True))])

    # Same inputs and model, but refusals at twice the reference rate (a changed decision rule).
    ref_probs = score(a.bin, a.bundle, ref, out)
    ref_rate = sum(p >= threshold for p in ref_probs) / len(ref_probs)
    rng = random.Random(22)
    d = out / "refusal-doubled"
    d.mkdir(exist_ok=True)
    write_reference(d / "reference.csv", ref)
    write_jsonl(d / "logs.jsonl", [log_line(i, r, p, threshold, version, refused=rng.random() < 2 * ref_rate)
                                   for i, (r, p) in enumerate(zip(cur, probs, strict=True))])

    # Python's json.dumps writes NaN and Infinity; 1e400 is written by hand (as a float it is inf).
    recs = draw_records(header, 1000, seed=30)
    probs = score(a.bin, a.bundle, recs, out)
    rng = random.Random(31)
    lines, duplicates = [], 0
    for i, (r, p) in enumerate(zip(recs, probs, strict=True)):
        r = dict(r)
        u = rng.random()
        if u < 0.09:
            r["EXT_SOURCE_3"] = float("nan")
        elif u < 0.12:
            r["AMT_CREDIT"] = float("inf") if i % 2 else float("-inf")
        elif u < 0.13:
            r["AMT_ANNUITY"] = "__HUGE__"
        line = json.dumps(log_line(i, r, p, threshold, version)).replace('"__HUGE__"', "1e400")
        if 0.13 <= u < 0.16:
            # A repeated input key: the last value counts (Python's json keeps it too).
            line = line.replace('"DAYS_BIRTH": ', '"DAYS_BIRTH": -1.0, "DAYS_BIRTH": ', 1)
            duplicates += 1
        elif 0.16 <= u < 0.18:
            line = line.replace('"probability": ', '"probability": 0.999, "probability": ', 1)
            duplicates += 1
        lines.append(line)
    write_jsonl(out / "nan-infinity" / "logs.jsonl", lines)
    (out / "nan-infinity" / "duplicates.txt").write_text(f"{duplicates}\n")

    # Timestamps as Python's datetime.isoformat() writes them (naive, fractional) and with +0000.
    recs = draw_records(header, 2600, seed=40)
    probs = score(a.bin, a.bundle, recs, out)
    forms = [
        lambda t: t.replace(tzinfo=None).isoformat(timespec="microseconds"),  # naive, fractional
        lambda t: t.strftime("%Y-%m-%dT%H:%M:%S+0000"),  # offset without colon
        lambda t: t.replace(tzinfo=None).isoformat(),  # naive, whole seconds
        lambda t: t.isoformat(timespec="milliseconds"),  # RFC 3339 with fraction
    ]
    write_jsonl(out / "naive-timestamps" / "logs.jsonl", [
        log_line(i, r, p, threshold, version, ts=forms[i % 4](START + timedelta(minutes=20 * i, seconds=i % 7)))
        for i, (r, p) in enumerate(zip(recs, probs, strict=True))])

    # The same records as reference and as logs, with levels in other case/spacing and a level the
    # schema does not know: identical data must not drift (one raw-value rule on both sides).
    recs = draw_records(header, 1500, seed=50)
    rng = random.Random(51)
    for r in recs:
        u = rng.random()
        if u < 0.1:
            r["CODE_GENDER"] = " " + r["CODE_GENDER"].lower()
        elif u < 0.2:
            r["CODE_GENDER"] = "XNA-unknown"
    probs = score(a.bin, a.bundle, [dict(r, CODE_GENDER="F") for r in recs], out)
    d = out / "same-data"
    d.mkdir(exist_ok=True)
    write_reference(d / "reference.csv", recs)
    write_jsonl(d / "logs.jsonl", [log_line(i, r, p, threshold, version)
                                   for i, (r, p) in enumerate(zip(recs, probs, strict=True))])

    write_jsonl(out / "all-malformed" / "logs.jsonl",
                ["{not json", "[1, 2]", "{}", '{"probability": "high"}', "plain text"])
    write_jsonl(out / "empty" / "logs.jsonl", [])
    print(f"drift cases written to {out}")


if __name__ == "__main__":
    main()
