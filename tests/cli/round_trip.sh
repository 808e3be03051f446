#!/usr/bin/env bash
# round_trip.sh MTIF WORK: generate small data, then influence, loo and
# relatedness on it; outputs follow the contract of shared/spec/interfaces.md.
# The file contents are checked by check_outputs.py (one Python start).
source "$(dirname "$0")/lib.sh"
set -e
D="$WORK/data"
K=3; N=20; M=10      # tasks, training rows per task, test rows per task
NTRAIN=$((K * N)); NTEST=$((K * M))
data=(--train "$D/train.csv" --test "$D/test.csv")
count() { echo $(($(wc -l <"$1") - 1)); }  # lines after the header

"$MTIF" generate --tasks $K --features 4 --rows $N --test-rows $M --seed 11 --out-dir "$D" -q
for f in train test truth; do [ -s "$D/$f.csv" ] || fail "generate did not write $f.csv"; done
case "$(first_line "$D/train.csv")" in task,y,*) ;; *) fail "train.csv header: $(first_line "$D/train.csv")" ;; esac
[ "$(count "$D/train.csv")" -eq $NTRAIN ] || fail "train.csv has the wrong number of rows"
[ "$(count "$D/test.csv")" -eq $NTEST ] || fail "test.csv has the wrong number of rows"

# influence, tasks as targets.
"$MTIF" influence "${data[@]}" --out "$WORK/scores.csv" --json "$WORK/influence.json" -q
[ "$(first_line "$WORK/scores.csv")" = "train_row,train_task,target_task,loss_change_if_removed,task_part,shared_part" ] ||
  fail "influence header: $(first_line "$WORK/scores.csv")"

# influence, test rows as targets: a target_row column follows target_task.
"$MTIF" influence "${data[@]}" --targets rows --mode exact --out "$WORK/rows.csv" -q
[ "$(first_line "$WORK/rows.csv")" = \
  "train_row,train_task,target_task,target_row,loss_change_if_removed,task_part,shared_part" ] ||
  fail "influence --targets rows header: $(first_line "$WORK/rows.csv")"
[ "$(count "$WORK/rows.csv")" -eq $((NTRAIN * NTEST)) ] || fail "--targets rows: wrong line count"

# .npy output comes with a PATH.json sidecar.
"$MTIF" influence "${data[@]}" --out "$WORK/scores.npy" -q
[ -s "$WORK/scores.npy" ] || fail "no scores.npy"
[ -s "$WORK/scores.npy.json" ] || fail "no scores.npy.json sidecar"

# The same data in one file with a split column, test rows interleaved, gives
# the same scores: train_row counts only the training rows, in file order.
awk -F, 'NR == FNR { if (FNR > 1) test[++nt] = $0; next }
         FNR == 1 { print $0 ",split"; next }
         { i = FNR - 1; if (i <= nt) print test[i] ",test"; print $0 ",train" }' \
  "$D/test.csv" "$D/train.csv" >"$WORK/both.csv"
[ "$(count "$WORK/both.csv")" -eq $((NTRAIN + NTEST)) ] || fail "both.csv was not built right"
"$MTIF" influence --train "$WORK/both.csv" --out "$WORK/scores-split.csv" -q
cmp -s "$WORK/scores.csv" "$WORK/scores-split.csv" || fail "scores differ between split-column and two-file input"

# loo: actual retraining for a few rows.
"$MTIF" loo "${data[@]}" --rows 0-3,$((NTRAIN - 1)) --out "$WORK/loo.csv" --json "$WORK/loo.json" -q
[ "$(first_line "$WORK/loo.csv")" = "train_row,train_task,target_task,actual_loss_change" ] ||
  fail "loo header: $(first_line "$WORK/loo.csv")"
[ "$(count "$WORK/loo.csv")" -eq $((5 * K)) ] || fail "loo: wrong line count"
[ "$(cut -d, -f1 "$WORK/loo.csv" | tail -n +2 | sort -un | tr '\n' ' ')" = "0 1 2 3 $((NTRAIN - 1)) " ] ||
  fail "loo: wrong train_row values"

# relatedness with --validate and a JSON summary.
"$MTIF" relatedness "${data[@]}" --validate --json "$WORK/r.json" --out "$WORK/R.csv" -q
[ "$(first_line "$WORK/R.csv")" = "source_task,target_task,loss_change_if_removed" ] ||
  fail "relatedness header: $(first_line "$WORK/R.csv")"
[ "$(count "$WORK/R.csv")" -eq $((K * K)) ] || fail "relatedness: wrong line count"

# fit --save, then influence from the saved model.
"$MTIF" fit "${data[@]}" --save "$WORK/model.json" --json "$WORK/fit.json" -q
"$MTIF" influence "${data[@]}" --model-file "$WORK/model.json" --out "$WORK/scores-loaded.csv" -q

[ -z "$(leftovers "$WORK")" ] || fail "temporary files left: $(leftovers "$WORK")"
python3 "$(dirname "$0")/check_outputs.py" "$WORK" $NTRAIN $K || fail "output files do not follow the contract"
echo "ok: round trip"
