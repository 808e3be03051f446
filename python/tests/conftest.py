"""Shared fixtures: the CLI binary (MTIF_BIN, set by CTest) and small generated data sets."""
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def mtif_bin() -> str:
    path = os.environ.get("MTIF_BIN") or str(ROOT / "build" / "mtif")
    if not os.path.exists(path):
        pytest.skip(f"the mtif binary is not at {path} (set MTIF_BIN)")
    return path


def run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([mtif_bin(), *map(str, args)], capture_output=True, text=True)


def cli_ok(*args) -> subprocess.CompletedProcess:
    r = run_cli(*args)
    assert r.returncode == 0, f"mtif {' '.join(map(str, args))} failed: {r.stderr}"
    return r


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    cli_ok("generate", "--tasks", 5, "--features", 4, "--rows", 30, "--test-rows", 12, "--seed", 11,
           "--out-dir", d, "-q")
    return d


@pytest.fixture(scope="session")
def logistic_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("logistic")
    cli_ok("generate", "--tasks", 4, "--features", 3, "--rows", 40, "--test-rows", 10, "--seed", 2,
           "--loss", "logistic", "--out-dir", d, "-q")
    return d
