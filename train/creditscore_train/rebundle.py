"""Rewrites a bundle's schema with the column dictionary, spellings and codes
(``dictionary.complete_schema``), leaving everything the trees read untouched.

    python -m creditscore_train.rebundle models/default.csb [--out OUT.csb] [--check]

Only the header's ``schema`` changes (through the core: ``Bundle.to_bytes(spec)``, which writes
the current format, 2, so this also converts a format-1 bundle): the trees are untouched, so raw
scores, probabilities and SHAP values keep their bits (``creditscore predict`` is checked against
the original by ``tests/test_default_bundle.py``). ``--check`` exits 1 when the bundle is not up to
date (nothing is written). Layout: docs/BUNDLE_FORMAT.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import core
from .dictionary import complete_schema


def rebundle(data: bytes) -> bytes:
    spec = core.bundle_header(data)
    del spec["model"]
    spec["schema"] = complete_schema(spec["schema"])
    return core.with_spec(data, spec)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bundle", type=Path)
    ap.add_argument("--out", type=Path, help="default: rewrite BUNDLE in place")
    ap.add_argument("--check", action="store_true", help="only check that BUNDLE is up to date")
    args = ap.parse_args(argv)
    data = args.bundle.read_bytes()
    new = rebundle(data)
    if args.check:
        if new != data:
            print(f"{args.bundle} is not up to date: run python -m creditscore_train.rebundle {args.bundle}")
            return 1
        return 0
    (args.out or args.bundle).write_bytes(new)
    print(f"{args.out or args.bundle}: schema completed ({len(data)} -> {len(new)} bytes, trees unchanged)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
