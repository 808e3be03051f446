#!/usr/bin/env bash
# mpi.sh MTIF WORK PYTHON MPIRUN: `mpirun -np N mtif influence` gives the scores
# of the one-process run: bit-identical with 1 rank, within 1e-12 (relative to
# the largest score of each column) with 2 and 4 ranks, for squared and
# logistic losses, first-order and exact, CSV and .npy outputs. Bad input under
# mpirun: exit 2, the error printed once, no output.
source "$(dirname "$0")/lib.sh"
set -e
PY="$3"
MPIRUN="$4"
HERE="$(dirname "$0")"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
mpi() { "$MPIRUN" --oversubscribe -np "$1" "${@:2}"; }
D="$WORK/data"
# 7 tasks of 23 rows: rank boundaries fall inside tasks.
"$MTIF" generate --tasks 7 --features 5 --rows 23 --test-rows 9 --seed 3 --out-dir "$D" -q
data=(--train "$D/train.csv" --test "$D/test.csv")
awk -F, 'NR == 1 { print; next } { $2 = ($2 > 0) ? 1 : 0; print }' OFS=, "$D/train.csv" >"$WORK/train01.csv"
awk -F, 'NR == 1 { print; next } { $2 = ($2 > 0) ? 1 : 0; print }' OFS=, "$D/test.csv" >"$WORK/test01.csv"
logistic=(--train "$WORK/train01.csv" --test "$WORK/test01.csv" --loss logistic)

check() {  # check NAME OUT_EXT ARGS...: 1, 2 and 4 ranks against the plain run
  local name="$1" ext="$2"
  shift 2
  "$MTIF" influence "$@" --out "$WORK/$name-plain.$ext" -q
  mpi 1 "$MTIF" influence "$@" --out "$WORK/$name-1.$ext" -q
  cmp -s "$WORK/$name-plain.$ext" "$WORK/$name-1.$ext" || fail "$name: 1 rank differs from the plain run"
  for n in 2 4; do
    mpi $n "$MTIF" influence "$@" --out "$WORK/$name-$n.$ext" --json "$WORK/$name-$n.json" -q
    "$PY" "$HERE/compare_scores.py" "$WORK/$name-plain.$ext" "$WORK/$name-$n.$ext" 1e-12 ||
      fail "$name: $n ranks differ from the plain run"
    grep -q "\"mpi_ranks\": $n" "$WORK/$name-$n.json" || fail "$name: summary lacks mpi_ranks $n"
  done
}
check first-order csv "${data[@]}"
check exact-rows npy "${data[@]}" --mode exact --targets rows
check logistic csv "${logistic[@]}" --intercept
"$PY" "$HERE/csv_to_npy.py" "$D/train.csv" "$WORK/npy-train"
"$PY" "$HERE/csv_to_npy.py" "$D/test.csv" "$WORK/npy-test" "$D/train.csv"
check npy-input csv --train-npy "$WORK/npy-train" --test-npy "$WORK/npy-test"

# A bad value under mpirun: exit 2, the error once, nothing written.
sed '5s/^\([^,]*\),\([^,]*\),[^,]*,/\1,\2,oops,/' "$D/train.csv" >"$WORK/bad.csv"
rc=0
mpi 2 "$MTIF" influence --train "$WORK/bad.csv" --test "$D/test.csv" --out "$WORK/bad-out.csv" -q \
  >"$WORK/stdout.txt" 2>"$WORK/stderr.txt" || rc=$?
[ "$rc" -eq 2 ] || fail "bad input under mpirun: exit $rc (expected 2): $(cat "$WORK/stderr.txt")"
[ "$(grep -c '^mtif: error: ' "$WORK/stderr.txt")" -eq 1 ] ||
  fail "bad input under mpirun: the error is not printed exactly once: $(cat "$WORK/stderr.txt")"
grep -q "bad.csv:5:" "$WORK/stderr.txt" || fail "bad input: no file:line in $(cat "$WORK/stderr.txt")"
[ ! -e "$WORK/bad-out.csv" ] || fail "output written although the run failed"
[ -z "$(leftovers "$WORK")" ] || fail "temporary files left: $(leftovers "$WORK")"
echo "ok: mpi"
