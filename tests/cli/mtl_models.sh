#!/usr/bin/env bash
# mtl_models.sh MTIF WORK: --model vmtl|feedback for fit, and relatedness
# --method vmtl|feedback, on tiny generated data. The matrix file has the
# contract's header and K x K lines; VMTL's alpha sums to 1 over the sources
# of each target; the JSON summaries carry accuracy and the exported
# matrices; the same seed gives the same file; unsupported uses are refused.
source "$(dirname "$0")/lib.sh"
set -e
D="$WORK/data"
"$MTIF" generate --tasks 3 --features 5 --rows 40 --test-rows 30 --loss logistic --seed 2 --out-dir "$D" -q
common=(--train "$D/train.csv" --test "$D/test.csv" --hidden 8 --epochs 5 --seed 1 -q)

"$MTIF" fit "${common[@]}" --model vmtl --json "$WORK/fit_vmtl.json"
"$MTIF" fit "${common[@]}" --model feedback --json "$WORK/fit_feedback.json"
for m in vmtl feedback; do
  "$MTIF" relatedness "${common[@]}" --method $m --out "$WORK/$m.csv" --json "$WORK/$m.json"
  [ "$(first_line "$WORK/$m.csv")" = "source_task,target_task,loss_change_if_removed" ] || fail "$m: header"
  [ "$(($(wc -l <"$WORK/$m.csv") - 1))" -eq 9 ] || fail "$m: expected 3 x 3 lines"
done
"$MTIF" relatedness "${common[@]}" --method vmtl --out "$WORK/vmtl_again.csv"
cmp -s "$WORK/vmtl.csv" "$WORK/vmtl_again.csv" || fail "same seed, different vmtl matrix"
# The summaries carry "config": mtif run --config reproduces the run (same file).
for m in vmtl feedback; do
  grep -q '"config"' "$WORK/$m.json" || fail "$m.json: no config"
  cp "$WORK/$m.csv" "$WORK/$m.first.csv"
  "$MTIF" run --config "$WORK/$m.json" -q
  cmp -s "$WORK/$m.csv" "$WORK/$m.first.csv" || fail "$m: mtif run --config gave another matrix"
done

# alpha: for each target the weights over the other sources sum to 1, self weight 0.
awk -F, 'NR > 1 { s[$2] += $3; if ($1 == $2 && $3 != 0) bad = 1 }
         END { for (t in s) if (s[t] < 0.999999 || s[t] > 1.000001) bad = 1; exit bad }' "$WORK/vmtl.csv" ||
  fail "vmtl alpha columns do not sum to 1"
awk -F, 'NR > 1 && $1 == $2 && $3 != 0 { exit 1 }' "$WORK/feedback.csv" || fail "feedback: self-feedback not 0"

for f in fit_vmtl fit_feedback vmtl feedback; do
  grep -q '"test_accuracy"' "$WORK/$f.json" || fail "$f.json: no test_accuracy"
done
grep -q '"alpha"' "$WORK/fit_vmtl.json" && grep -q '"beta"' "$WORK/fit_vmtl.json" || fail "fit_vmtl.json: no alpha/beta"
grep -q '"gates"' "$WORK/fit_feedback.json" || fail "fit_feedback.json: no gates"

# VMTL regression (--regression): real targets, RMSE in the summary, the same alpha matrix.
R="$WORK/reg"
"$MTIF" generate --tasks 3 --features 5 --rows 40 --test-rows 30 --seed 3 --out-dir "$R" -q
reg=(--train "$R/train.csv" --test "$R/test.csv" --hidden 8 --epochs 5 --seed 1 -q --model vmtl)
"$MTIF" fit "${reg[@]}" --regression --json "$WORK/fit_vmtl_reg.json"
grep -q '"test_rmse"' "$WORK/fit_vmtl_reg.json" && ! grep -q '"test_accuracy"' "$WORK/fit_vmtl_reg.json" ||
  fail "vmtl --regression: summary should have test_rmse and no accuracy"
"$MTIF" relatedness "${reg[@]}" --method vmtl --regression --out "$WORK/vmtl_reg.csv"
awk -F, 'NR > 1 { s[$2] += $3; n++ } END { for (t in s) if (s[t] < 0.999999 || s[t] > 1.000001) bad = 1;
         exit bad || n != 9 }' "$WORK/vmtl_reg.csv" || fail "vmtl --regression: alpha is not 3 x 3 with columns summing to 1"
rc=0
"$MTIF" fit "${reg[@]}" 2>"$WORK/err.txt" || rc=$?  # real targets without --regression
[ $rc -ne 0 ] && grep -q "class-id" "$WORK/err.txt" || fail "vmtl classifier on real targets not refused"
rc=0
"$MTIF" fit "${common[@]}" --model feedback --regression 2>"$WORK/err.txt" || rc=$?
[ $rc -ne 0 ] && grep -q "needs --model vmtl" "$WORK/err.txt" || fail "feedback --regression not refused"
for other in "--model linear" "--model mlp"; do
  rc=0
  "$MTIF" fit "${common[@]}" $other --regression 2>"$WORK/err.txt" || rc=$?
  [ $rc -ne 0 ] && grep -q "needs --model vmtl" "$WORK/err.txt" || fail "$other --regression not refused"
done

# Refused: subcommands these models do not support, and --save.
for cmd in "influence --out $WORK/bad.csv" "loo --rows 0-3 --out $WORK/bad.csv"; do
  rc=0
  "$MTIF" $cmd "${common[@]}" --model vmtl 2>"$WORK/err.txt" || rc=$?
  [ $rc -ne 0 ] && grep -q "fit' and 'mtif relatedness' only" "$WORK/err.txt" && [ ! -e "$WORK/bad.csv" ] ||
    fail "'$cmd --model vmtl' not refused"
done

# Save and load: a loaded model gives the same test numbers and matrices as the saved one.
for m in vmtl feedback; do
  "$MTIF" fit "${common[@]}" --model $m --save "$WORK/$m.model.json" --json "$WORK/fit_$m.saved.json"
  "$MTIF" fit "${common[@]}" --model $m --model-file "$WORK/$m.model.json" --json "$WORK/fit_$m.loaded.json"
  python3 - "$WORK/fit_$m.saved.json" "$WORK/fit_$m.loaded.json" <<'PY' || fail "$m: loaded model differs"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
for key in ("test_accuracy", "test_loss"):
    assert a[key] == b[key], (key, a[key], b[key])
assert a["relatedness"]["matrix"] == b["relatedness"]["matrix"]
PY
  "$MTIF" relatedness "${common[@]}" --method $m --model-file "$WORK/$m.model.json" --out "$WORK/$m.loaded.csv"
  cmp -s "$WORK/$m.csv" "$WORK/$m.loaded.csv" || fail "$m: relatedness from the loaded model differs"
done
"$MTIF" fit "${reg[@]}" --regression --save "$WORK/vmtl_reg.model.json"
"$MTIF" relatedness "${reg[@]}" --method vmtl --model-file "$WORK/vmtl_reg.model.json" --out "$WORK/vmtl_reg.loaded.csv"
cmp -s "$WORK/vmtl_reg.csv" "$WORK/vmtl_reg.loaded.csv" || fail "vmtl --regression: loaded model differs"
# A file of the other model, or for other data, is refused with a one-line error.
rc=0
"$MTIF" fit "${common[@]}" --model feedback --model-file "$WORK/vmtl.model.json" 2>"$WORK/err.txt" || rc=$?
[ $rc -ne 0 ] && grep -q "not a feedback model file" "$WORK/err.txt" || fail "vmtl file as feedback model not refused"
"$MTIF" generate --tasks 3 --features 4 --rows 40 --test-rows 30 --loss logistic --seed 2 --out-dir "$WORK/other" -q
rc=0
"$MTIF" fit --train "$WORK/other/train.csv" --test "$WORK/other/test.csv" --model vmtl -q \
  --model-file "$WORK/vmtl.model.json" 2>"$WORK/err.txt" || rc=$?
[ $rc -ne 0 ] && grep -q "do not match the training data" "$WORK/err.txt" && [ "$(wc -l <"$WORK/err.txt")" -eq 1 ] ||
  fail "model file for other data not refused in one line"
echo OK
