"""Send synthetic, partly shifted traffic to a running creditscore endpoint (`make demo-drift`).

    .venv/bin/python tests/drift/demo_traffic.py --url http://127.0.0.1:8787 \
        --bundle models/default.csb --records 4000

Records are drawn from the bundle's own reference statistics (percentiles, missing rates, level
shares; read from the bundle's JSON header, docs/BUNDLE_FORMAT.md), so the first half of the
traffic looks like the training data. The second half is shifted: the first --shifted numeric
inputs are drawn from their upper quantiles and categorical shares are reversed. Records go to
POST /predict in batches (header X-Client-Source: demo-drift); the endpoint logs every record.
`--dry-run` prints a few records instead of sending them.
"""

import argparse
import json
import random
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path


def bundle_header(path, cli=None):
    """The bundle's header (any format: docs/BUNDLE_FORMAT.md) as `creditscore header` prints it;
    `cli` defaults to the debug build, else the release build."""
    if cli is None:
        builds = [Path(__file__).resolve().parents[2] / "target" / b / "creditscore" for b in ("debug", "release")]
        cli = next((p for p in builds if p.exists()), "creditscore")
    out = subprocess.run([str(cli), "header", str(path)], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{path}: {out.stderr.strip()}")
    return json.loads(out.stdout)


def from_quantiles(quantiles, u):
    """Inverse CDF through the percentiles (linear between them)."""
    pos = u * (len(quantiles) - 1)
    lo = min(int(pos), len(quantiles) - 2)
    return quantiles[lo] + (quantiles[lo + 1] - quantiles[lo]) * (pos - lo)


def make_record(rng, schema, reference, shifted_names, shift, index):
    refs = {f["name"]: f for f in reference.get("features", [])}
    record = {schema["id_field"]: 100000 + index}
    for field in schema["inputs"]:
        name, ref = field["name"], refs.get(field["name"])
        if ref is None:
            continue  # optional input without reference: the bundle's default applies
        required, nullable = field.get("required", False), field.get("nullable", False)
        if rng.random() < ref.get("missing_rate", 0.0):
            if not required:
                continue
            if nullable:
                record[name] = None
                continue
        if ref["type"] == "numeric":
            u = rng.random()
            if shift and name in shifted_names:
                u = 0.55 + 0.45 * u  # the upper 45 % only
            v = from_quantiles(ref["quantiles"], u)
            lo, hi = field.get("valid_min"), field.get("valid_max")
            if lo is not None:
                v = max(v, lo)
            if hi is not None:
                v = min(v, hi)
            record[name] = round(v) if field.get("integer") else round(v, 6)
        else:
            levels, shares = ref["levels"], ref["proportions"]
            if shift:
                shares = list(reversed(shares))
            record[name] = rng.choices(levels, weights=shares)[0] if sum(shares) > 0 else levels[0]
    return record


def post(url, records):
    body = json.dumps({"data": records}).encode()
    req = urllib.request.Request(f"{url}/predict", data=body, method="POST",
                                 headers={"Content-Type": "application/json", "X-Client-Source": "demo-drift"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, None
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")[:300]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default="http://127.0.0.1:8787")
    ap.add_argument("--bundle", default="models/default.csb")
    ap.add_argument("--records", type=int, default=4000)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--shifted", type=int, default=3, help="numeric inputs shifted in the second half")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--dry-run", action="store_true")
    a = ap.parse_args()
    header = bundle_header(a.bundle)
    schema, reference = header["schema"], header.get("reference")
    if not reference:
        sys.exit(f"{a.bundle}: the bundle has no reference statistics to draw traffic from")
    numeric_refs = [f["name"] for f in reference["features"] if f["type"] == "numeric"]
    shifted = set(numeric_refs[: a.shifted])
    rng = random.Random(a.seed)
    records = [make_record(rng, schema, reference, shifted, i >= a.records // 2, i) for i in range(a.records)]
    if a.dry_run:
        print(json.dumps(records[:3], indent=1))
        print(f"shifted in the second half: {sorted(shifted)} and every categorical input")
        return
    statuses = {}
    for start in range(0, len(records), a.batch):
        status, error = post(a.url, records[start:start + a.batch])
        statuses[status] = statuses.get(status, 0) + 1
        if error and statuses[status] == 1:
            print(f"POST /predict -> {status}: {error}", file=sys.stderr)
    print(f"sent {len(records)} records in batches of {a.batch} to {a.url}/predict: HTTP status counts {statuses}; "
          f"shifted in the second half: {sorted(shifted)} and every categorical input")
    if set(statuses) != {200}:
        sys.exit(1)


if __name__ == "__main__":
    main()
