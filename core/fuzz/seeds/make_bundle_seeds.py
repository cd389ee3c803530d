"""Writes bundle_load seeds that the committed models do not cover (run from the repo root).

nan_leaf.csb: models/default.csb with its first leaf value set to NaN and the checksum fixed.
Such a bundle loads (LightGBM itself can write NaN leaves); its NaN must not make two loads of
the same bytes look different to the harness.
Layout per docs/BUNDLE_FORMAT.md: 44-byte file header, u64 header length, header, then trees
(u32 node count, u32 word count, 40-byte nodes, then (value, cover) f64 pairs per leaf).
"""

import hashlib
import struct
from pathlib import Path

FILE_HEADER = 44
NODE_BYTES = 40

data = bytearray(Path("models/default.csb").read_bytes())
header_len = struct.unpack_from("<Q", data, FILE_HEADER)[0]
tree = FILE_HEADER + 8 + header_len
n_nodes, _n_words = struct.unpack_from("<II", data, tree)
struct.pack_into("<d", data, tree + 8 + n_nodes * NODE_BYTES, float("nan"))
data[12:FILE_HEADER] = hashlib.sha256(bytes(data[FILE_HEADER:])).digest()
Path("core/fuzz/seeds/bundle_load/nan_leaf.csb").write_bytes(bytes(data))
