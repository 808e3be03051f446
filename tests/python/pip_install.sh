#!/usr/bin/env bash
# pip_install.sh SOURCE_DIR WORK: `pip install ./python` the way a Python user
# does it, in a fresh virtual environment of Debian's python3, offline (no
# index, no build isolation: setuptools, wheel and NumPy are Debian's, seen
# through --system-site-packages), then `import mtif` from that interpreter,
# away from the source tree, and a small LinearMultitask fit.
# The CMake build folder is kept in WORK/cmake between runs (and objects come
# from ccache), so a rerun rebuilds little; the venv itself is always new.
# First run: 653 s on the shared 2-core VM (mtif_core compiled afresh: its flags
# differ from build/, so ccache misses); reruns rebuild only what changed.
# LibTorch is left out (MTIF_WITH_TORCH=OFF): the test is about packaging,
# and mtif._torch is built and tested by the main build (python_api).
set -euo pipefail
src=$(cd "$1" && pwd)
work=$2
fail() { echo "pip_install: $*" >&2; exit 1; }

mkdir -p "$work"
rm -rf "$work/venv" "$work/run"
mkdir -p "$work/run"
/usr/bin/python3 -m venv --system-site-packages "$work/venv" || fail "python3 -m venv failed (Debian: python3-venv)"
py="$work/venv/bin/python"

# pip builds in the source tree: python/build and python/mtif.egg-info, both git-ignored.
MTIF_WITH_TORCH=OFF MTIF_CMAKE_BUILD_DIR="$work/cmake" \
  "$py" -m pip install --quiet --no-build-isolation --no-index "$src/python" >"$work/pip.log" 2>&1 \
  || { tail -40 "$work/pip.log" >&2; fail "pip install ./python failed (log: $work/pip.log)"; }

# From an unrelated folder, so that `import mtif` cannot find python/mtif of the checkout.
cd "$work/run"
"$py" - "$work/venv" <<'PY'
import sys
from pathlib import Path

import numpy as np

import mtif

venv = Path(sys.argv[1]).resolve()
where = Path(mtif.__file__).resolve()
assert venv in where.parents, f"mtif imported from {where}, not from the venv {venv}"
assert Path(mtif._core.__file__).resolve().parent == where.parent, "the extension is not in the installed package"

# Two tasks sharing most of their weights; the fit must recover them.
rng = np.random.default_rng(0)
n, d = 80, 3
X = rng.normal(size=(2 * n, d))
shared = np.array([1.0, -2.0, 0.5])
own = np.array([[0.3, 0.0, 0.0], [0.0, 0.0, -0.3]])
task = np.repeat(np.array(["a", "b"]), n)
y = np.array([X[i] @ (shared + own[i // n]) for i in range(2 * n)]) + 0.01 * rng.normal(size=2 * n)
train = mtif.Dataset.from_arrays(X, y, task)
model = mtif.LinearMultitask(lambda_task=1e-3, lambda_shared=1e-3).fit(train)
weights = model.gamma_[None, :] + model.theta_
assert np.abs(weights - (shared + own)).max() < 0.05, weights
scores = model.influence(train)
assert scores.total.shape == (2 * n, 2)
print(f"pip_install: ok, mtif from {where.parent}")
PY
