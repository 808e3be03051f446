#!/usr/bin/env bash
# output_folder.sh MTIF WORK: an output file in a folder that does not exist
# is refused when the flags are read, before any data is read or any model
# trained: non-zero exit, the flag and the missing folder named on stderr,
# nothing on stdout, nothing written. Covers every subcommand's file outputs.
source "$(dirname "$0")/lib.sh"
set -e
D="$WORK/data"
"$MTIF" generate --tasks 2 --features 3 --rows 20 --test-rows 10 --seed 1 --out-dir "$D" -q
data=(--train "$D/train.csv" --test "$D/test.csv")
missing="$WORK/no-such-folder"
check() {  # FLAG -- COMMAND...
  local flag="$1" rc=0
  shift 2
  "$@" >"$WORK/out.txt" 2>"$WORK/err.txt" || rc=$?
  [ $rc -ne 0 ] || fail "not refused: $*"
  grep -qF -- "$flag: $missing/" "$WORK/err.txt" && grep -qF "folder $missing does not exist" "$WORK/err.txt" ||
    fail "stderr does not name $flag and the folder: $(cat "$WORK/err.txt")"
  [ ! -s "$WORK/out.txt" ] || fail "work was done before the refusal: $(cat "$WORK/out.txt")"
  [ ! -e "$missing" ] || fail "$missing was created"
}
check --out -- "$MTIF" influence "${data[@]}" --out "$missing/s.csv"
check --out -- "$MTIF" loo "${data[@]}" --rows 0-1 --out "$missing/l.csv"
check --out -- "$MTIF" relatedness "${data[@]}" --out "$missing/r.csv"
check --out -- "$MTIF" lds "${data[@]}" --out "$missing/lds.csv"
check --rows-out -- "$MTIF" select "${data[@]}" --valid "$D/test.csv" --rows-out "$missing/sel.csv"
check --out -- "$MTIF" sources "${data[@]}" --target-task task0 --out "$missing/src.csv"
check --rows-out -- "$MTIF" sources "${data[@]}" --target-task task0 --out "$WORK/src.csv" --rows-out "$missing/rows.csv"
check --out -- "$MTIF" report --from "$D" --out "$missing/r.html"
check --json -- "$MTIF" fit "${data[@]}" --json "$missing/fit.json"
check --save -- "$MTIF" fit "${data[@]}" --save "$missing/model.json"
check --save -- "$MTIF" fit "${data[@]}" --model vmtl --save "$missing/model.json"
# A file in the current folder (no folder part) and in an existing folder still work.
(cd "$WORK" && "$MTIF" fit --train data/train.csv --test data/test.csv --json fit.json -q) || fail "fit --json fit.json"
[ -s "$WORK/fit.json" ] || fail "fit.json not written"
echo OK
