#!/usr/bin/env bash
# Installs what mtif needs to build and test, from Debian packages only.
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  ccache                     # compiler cache: rebuilds and several checkouts share object files
  libeigen3-dev libcli11-dev nlohmann-json3-dev libfmt-dev zlib1g-dev
  libdragonbox-dev           # shortest round-trip digits of doubles: fast CSV scores
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev   # libFuzzer and sanitizer runtimes for scripts/fuzz.sh
  libtorch-dev               # neural models (CPU build of PyTorch 1.13)
  libopenblas0-openmp        # LibTorch's BLAS: without it Debian's reference BLAS, 5-8x slower matmuls
  time python3 python3-numpy
  pybind11-dev python3-dev python3-pytest  # the Python module `mtif` (python/) and its tests
  python3-torch              # bench/dense_reference.py: the dense PyTorch alternative of the scale benchmark
  libopenmpi-dev openmpi-bin # `mpirun -np N mtif influence` (MTIF_WITH_MPI)
  python3-sphinx python3-myst-parser python3-matplotlib python3-pil  # the documentation site (scripts/docs.sh)
  python3-venv python3-setuptools python3-wheel  # pip install ./python in a virtual environment, offline
)
# install_missing PACKAGE...: apt-get install of those not installed yet.
install_missing() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
install_missing "${packages[@]}"

# mtif report: headless Chromium for its browser test (apt), and the chart
# library embedded into the binary plus the test's browser driver (npm, pinned
# by report/package-lock.json). npm ci runs only when the lock file changed
# since the last install, so a second run of this script stays quick.
report_packages=(chromium chromium-driver)
command -v npm >/dev/null 2>&1 || report_packages+=(nodejs npm)  # node may come from elsewhere than apt
install_missing "${report_packages[@]}"
report_dir="$(cd "$(dirname "$0")/.." && pwd)/report"
stamp="$report_dir/node_modules/.mtif-installed-lock.json"  # the lock file of the last npm ci
if ! cmp -s "$report_dir/package-lock.json" "$stamp"; then
  echo "setup: npm ci in report/" >&2
  (cd "$report_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  cp "$report_dir/package-lock.json" "$stamp"
fi
