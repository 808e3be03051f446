#!/usr/bin/env bash
# npy_input.sh MTIF WORK PYTHON: the same data as CSV and as .npy folders give
# identical scores; float32 features are read; a bad .npy is refused cleanly.
source "$(dirname "$0")/lib.sh"
set -e
PY="$3"
HERE="$(dirname "$0")"
D="$WORK/data"
"$MTIF" generate --tasks 3 --features 4 --rows 25 --test-rows 10 --seed 5 --out-dir "$D" -q
"$PY" "$HERE/csv_to_npy.py" "$D/train.csv" "$WORK/train"
"$PY" "$HERE/csv_to_npy.py" "$D/test.csv" "$WORK/test" "$D/train.csv"

for targets in tasks rows; do
  "$MTIF" influence --train "$D/train.csv" --test "$D/test.csv" --targets $targets --out "$WORK/csv-$targets.csv" -q
  "$MTIF" influence --train-npy "$WORK/train" --test-npy "$WORK/test" --targets $targets \
    --out "$WORK/npy-$targets.csv" -q
  cmp -s "$WORK/csv-$targets.csv" "$WORK/npy-$targets.csv" || fail "--targets $targets: CSV and .npy input differ"
done
"$MTIF" relatedness --train-npy "$WORK/train" --test-npy "$WORK/test" --out "$WORK/R.csv" -q
"$MTIF" relatedness --train "$D/train.csv" --test "$D/test.csv" --out "$WORK/R-csv.csv" -q
cmp -s "$WORK/R.csv" "$WORK/R-csv.csv" || fail "relatedness: CSV and .npy input differ"

# float32 features: read and widened; the scores stay close to the float64 ones.
"$PY" "$HERE/csv_to_npy.py" "$D/train.csv" "$WORK/train32" float32
"$MTIF" influence --train-npy "$WORK/train32" --test-npy "$WORK/test" --out "$WORK/f32.npy" -q
"$MTIF" influence --train-npy "$WORK/train" --test-npy "$WORK/test" --out "$WORK/f64.npy" -q
"$PY" "$HERE/compare_scores.py" "$WORK/f64.npy" "$WORK/f32.npy" 1e-4 >/dev/null || fail "float32 scores far from float64"
if "$PY" "$HERE/compare_scores.py" "$WORK/f64.npy" "$WORK/f32.npy" >/dev/null; then
  fail "float32 input gave bit-identical scores: was it read as float32 at all?"
fi

# A Fortran-order X.npy: exit 2, one line naming the file and the header byte, no output.
mkdir -p "$WORK/fortran" && cp "$WORK/train"/* "$WORK/fortran/"
"$PY" -c "import numpy as np, sys; np.save(sys.argv[1], np.asfortranarray(np.load(sys.argv[1])))" "$WORK/fortran/X.npy"
expect_refused "$WORK/fortran/X.npy: byte " "fortran_order" "$WORK/bad.csv" -- \
  "$MTIF" influence --train-npy "$WORK/fortran" --test-npy "$WORK/test" --out "$WORK/bad.csv"
# --train-npy without --test-npy, and neither form: usage errors, no output.
if "$MTIF" influence --train-npy "$WORK/train" --out "$WORK/bad.csv" 2>/dev/null; then fail "--test-npy not required"; fi
if "$MTIF" influence --out "$WORK/bad.csv" 2>/dev/null; then fail "no training data accepted"; fi
[ ! -e "$WORK/bad.csv" ] || fail "bad.csv written"
echo "ok: .npy input"
