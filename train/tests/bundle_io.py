"""Reads a bundle's JSON header (layout in core/src/bundle.rs) for assertions in tests."""

import hashlib
import json
import struct
from pathlib import Path


def read_header(path: Path) -> dict:
    data = Path(path).read_bytes()
    assert data[:8] == b"CSBUNDLE"
    (version,) = struct.unpack("<I", data[8:12])
    assert version == 1
    assert hashlib.sha256(data[44:]).digest() == data[12:44], "content hash"
    (length,) = struct.unpack("<Q", data[44:52])
    return json.loads(data[52 : 52 + length])
