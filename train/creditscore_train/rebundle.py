"""Rewrites a bundle's schema with the column dictionary, spellings and codes
(``dictionary.complete_schema``), leaving everything the trees read untouched.

    python -m creditscore_train.rebundle models/default.csb [--out OUT.csb] [--check]

Only the JSON header's ``schema`` changes: the tree section is copied byte for byte, so raw
scores, probabilities and SHAP values keep their bits (the core re-reads the file and
``creditscore predict`` is checked against the original by ``tests/test_default_bundle.py``).
``--check`` exits 1 when the bundle is not up to date (nothing is written). Layout: core/src/bundle.rs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import struct
import sys
from pathlib import Path

from .dictionary import complete_schema

MAGIC = b"CSBUNDLE"


def split(data: bytes) -> tuple[dict, bytes]:
    """The header JSON and the tree section of a bundle (format version 1)."""
    if data[:8] != MAGIC or struct.unpack("<I", data[8:12])[0] != 1:
        raise ValueError("not a format-1 creditscore bundle")
    if hashlib.sha256(data[44:]).digest() != data[12:44]:
        raise ValueError("bundle content does not match its sha256")
    (length,) = struct.unpack("<Q", data[44:52])
    return json.loads(data[52 : 52 + length]), data[52 + length :]


def join(header: dict, trees: bytes) -> bytes:
    body = json.dumps(header, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    content = struct.pack("<Q", len(body)) + body + trees
    return MAGIC + struct.pack("<I", 1) + hashlib.sha256(content).digest() + content


def rebundle(data: bytes) -> bytes:
    header, trees = split(data)
    header["schema"] = complete_schema(header["schema"])
    return join(header, trees)


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
