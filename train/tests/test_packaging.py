"""train/pyproject.toml pins the same versions as requirements.txt, which the project venv installs."""

import re
import tomllib
from importlib import metadata
from pathlib import Path

TRAIN = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;#]+)$")


def pins(lines):
    out = {}
    for line in lines:
        m = PIN.match(line.split("#", 1)[0].strip())
        if m:
            out[m[1].lower()] = m[2]
    return out


def test_dependencies_pinned_as_in_requirements_and_installed():
    project = tomllib.loads((TRAIN / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + [d for ds in project["optional-dependencies"].values() for d in ds]
    ours = pins(declared)
    assert len(ours) == len(declared), f"every dependency is pinned with ==: {declared}"
    required = pins((TRAIN.parent / "requirements.txt").read_text().splitlines())
    for name, version in ours.items():
        want = required.get(name)
        assert want == version, f"{name}: pyproject {version}, requirements.txt {want}"
        assert metadata.version(name) == version, f"{name}: venv {metadata.version(name)}, pinned {version}"
