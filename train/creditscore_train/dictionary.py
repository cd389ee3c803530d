"""The Home Credit column dictionary, the accepted category spellings and the dataset's codes,
as the bundle's schema declares them (core/src/schema.rs).

- ``data/home_credit_application_columns.csv`` (copied from the project's shared reference data):
  the 122 columns of ``application_train.csv`` in file order, their kind, level sets and notes
  (missing rates, special codes).
- Every column the model does not read is still declared in the schema, as an optional input the
  model does not use: a client may send the full record (the original API accepted it), each value
  is type-checked and logged, none is scored. ``TARGET`` is declared as the label, which a request
  may not carry.
- Dataset codes: ``XNA`` / ``Unknown`` in categorical columns (``codes``), ``365243`` in
  DAYS_EMPLOYED (``sentinel``): scored as missing with a warning.
- Synonyms of the original system (seed repository, tests/test_api.py and its normaliser): matched
  case- and whitespace-insensitively by the core, declared only where they are unambiguous for the
  field. ``0``/``1`` are NOT accepted for CODE_GENDER (the original read 0 = F, 1 = M, a convention
  nothing in the data documents; other systems use the opposite). ``F`` means *false* for a Y/N
  flag (its only meaning there) and *female* for CODE_GENDER.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

DICTIONARY_CSV = Path(__file__).with_name("data") / "home_credit_application_columns.csv"
ID_FIELD = "SK_ID_CURR"
LABEL = "TARGET"

# Spellings for a Y/N flag's levels (the original: Y = Y, YES, TRUE, T, 1; N = N, NO, FALSE, F, 0).
TRUE_SPELLINGS = ["yes", "true", "t", "1"]
FALSE_SPELLINGS = ["no", "false", "f", "0"]
# CODE_GENDER (the original: F = F, FEMALE, W, WOMAN, 0; M = M, MALE, MAN, 1; without 0/1).
GENDER_ALIASES = {"female": "F", "woman": "F", "w": "F", "male": "M", "man": "M"}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # id | label | categorical | integer | number
    levels: tuple[str, ...]
    note: str

    @property
    def codes(self) -> list[str]:
        """Categorical codes the note declares as "not available" (``XNA = not available``)."""
        found = re.findall(r"(\w+) = not available", self.note)
        return [c for c in found if self.kind == "categorical"]


def columns() -> list[Column]:
    """The dictionary's columns in ``application_train.csv`` file order."""
    with DICTIONARY_CSV.open(newline="") as f:
        return [
            Column(r["column"], r["kind"], tuple(r["levels"].split("|")) if r["levels"] else (), r["note"])
            for r in csv.DictReader(f)
        ]


def by_name() -> dict[str, Column]:
    return {c.name: c for c in columns()}


def aliases_for(name: str, levels: list[str]) -> dict[str, str]:
    """Accepted spellings of ``levels`` beyond the levels themselves (matching ignores case)."""
    if name == "CODE_GENDER":
        return {a: lvl for a, lvl in GENDER_ALIASES.items() if lvl in levels}
    folded = {lvl.lower(): lvl for lvl in levels}
    for yes, no in (("y", "n"), ("yes", "no")):
        if set(folded) == {yes, no}:
            spellings = {s: folded[yes] for s in ["y", *TRUE_SPELLINGS]}
            spellings.update({s: folded[no] for s in ["n", *FALSE_SPELLINGS]})
            # The levels themselves need no alias.
            return {s: lvl for s, lvl in spellings.items() if s != lvl.lower()}
    return {}


def codes_for(name: str) -> list[str]:
    col = by_name().get(name)
    return col.codes if col else []


def _valid_range(col: Column) -> tuple[float | None, float | None]:
    note, name = col.note, col.name
    if "[0, 1]" in note or note.startswith("0/1"):
        return (0.0, 1.0)
    if name.startswith("DAYS_") or "<= 0" in note or "negative" in note:
        return (None, 0.0)
    if name.startswith(("AMT_", "CNT_", "OBS_", "DEF_")) or ">= 0" in note or "> 0" in note:
        return (0.0, None)
    if name == "HOUR_APPR_PROCESS_START":
        return (0.0, 23.0)
    return (None, None)


def unused_field(col: Column) -> dict:
    """An input the model does not read: accepted, type-checked, logged, never scored."""
    base = {"name": col.name, "required": False, "nullable": False, "description": col.note}
    if col.kind == "categorical":
        levels = [lvl for lvl in col.levels if lvl not in col.codes]
        return {
            **base,
            "type": "categorical",
            "levels": levels,
            "aliases": dict(sorted(aliases_for(col.name, levels).items())),
            "codes": col.codes,
            "default": None,
            "unknown": "missing",
            "example": levels[0] if levels else None,
        }
    lo, hi = _valid_range(col)
    return {
        **base,
        "type": "numeric",
        "integer": col.kind == "integer",
        "valid_min": lo,
        "valid_max": hi,
        "train_min": None,
        "train_max": None,
        "default": None,
        "sentinel": 365243 if col.name == "DAYS_EMPLOYED" else None,
        "unit": "",
        "example": None,
    }


def complete_schema(schema: dict) -> dict:
    """``schema`` (the core's serde format) with the spellings and codes of its categorical inputs,
    the rest of the dictionary as inputs the model does not use, and the label. Idempotent; leaves
    levels, model features and everything the trees read unchanged, so scores keep their bits."""
    out = dict(schema)
    present = set()
    inputs = []
    for field in schema["inputs"]:
        field = dict(field)
        present.add(field["name"])
        if field["type"] == "categorical":
            aliases = {k.lower(): v for k, v in field.get("aliases", {}).items()}
            aliases.update(aliases_for(field["name"], field["levels"]))
            # A spelling equal to a level (ignoring case) would only shadow it.
            level_keys = {lvl.lower() for lvl in field["levels"]}
            field["aliases"] = {k: v for k, v in sorted(aliases.items()) if k not in level_keys}
            codes = codes_for(field["name"])
            if codes:
                field["codes"] = codes
        inputs.append(field)
    for col in columns():
        if col.kind in ("id", "label") or col.name in present:
            continue
        inputs.append(unused_field(col))
    out["inputs"] = inputs
    out["labels"] = [c.name for c in columns() if c.kind == "label"]
    return out
