"""Fixtures for the interop tests: the built binary, sample data, real data (CI only)."""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
REALDATA = ROOT.parent / "shared" / "realdata"


@pytest.fixture(scope="session")
def binary():
    path = pathlib.Path(os.environ.get("RECIPROCITY_BIN", ROOT / "target" / "release" / "reciprocity"))
    if not path.exists():
        subprocess.run(["cargo", "build", "--release"], cwd=ROOT, check=True)
    return path


@pytest.fixture(scope="session")
def sample_out(binary, tmp_path_factory):
    out = tmp_path_factory.mktemp("sample") / "out"
    subprocess.run(
        [binary, "run", "--job", "jobs/sample.toml", "--set", f"output.out={out}", "--log-format", "json"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return out


def realdata(name):
    path = REALDATA / name
    if not path.exists():
        pytest.skip(f"{path} is beside the project in CI only")
    return path
