"""Reads a bundle's header (any format, through the core: docs/BUNDLE_FORMAT.md) for assertions
in tests."""

from pathlib import Path

from creditscore_train import core


def read_header(path: Path) -> dict:
    return core.bundle_header(Path(path))
