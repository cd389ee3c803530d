"""The peers' model and request handling, shared by the FastAPI peer and the benchmark driver.

The peer model is a LightGBM model of the same shape as the product's bundle (the bundle's own
training parameters: trees, leaves, learning rate, ...) trained on the same kind of data (the
project's synthetic generator) and the same 45 model features, computed by `creditscore features`
from the raw rows. `features()` turns one raw request record into that feature row the way a
plain Python service would (a dict lookup per input, the bundle's derived ratios), so every
system does comparable work per request: parse JSON, map the record, score, answer JSON.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

# The bundle's header through `creditscore header`: one helper for the bench and the drift scripts.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "drift"))
from demo_traffic import bundle_header  # noqa: E402

__all__ = ["FeatureMap", "bundle_header"]


class FeatureMap:
    """Raw record (field name -> JSON value) -> model feature row, from a bundle's schema."""

    def __init__(self, schema: dict) -> None:
        self.names = list(schema["model_features"])
        self.inputs = {spec["name"]: spec for spec in schema["inputs"]}
        self.codes = {
            spec["name"]: {
                **{level: float(i) for i, level in enumerate(spec["levels"])},
                **{
                    alias: float(spec["levels"].index(level))
                    for alias, level in spec.get("aliases", {}).items()
                },
            }
            for spec in schema["inputs"]
            if spec["type"] == "categorical"
        }
        self.derived = {d["name"]: d for d in schema["derived"]}

    def raw(self, record: dict, name: str) -> float:
        spec = self.inputs[name]
        value = record.get(name, spec.get("default"))
        if value is None:
            return math.nan
        if name in self.codes:
            return self.codes[name].get(value, math.nan)
        value = float(value)
        return math.nan if spec.get("sentinel") is not None and value == spec["sentinel"] else value

    def features(self, record: dict) -> list[float]:
        row = []
        for name in self.names:
            d = self.derived.get(name)
            if d is None:
                row.append(self.raw(record, name))
            elif d["op"] == "ratio":
                num, den = self.raw(record, d["numerator"]), self.raw(record, d["denominator"])
                row.append(num / den if den not in (0.0,) and not math.isnan(den) else math.nan)
            else:  # sentinel_flag
                sentinel = self.inputs[d["input"]].get("sentinel")
                row.append(1.0 if record.get(d["input"]) == sentinel else 0.0)
        return row
