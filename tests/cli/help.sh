#!/usr/bin/env bash
# help.sh MTIF WORK: every subcommand's --help exits 0 and shows an example
# and its default values.
source "$(dirname "$0")/lib.sh"

# subcommand, then fixed strings its help must contain (defaults as CLI11 prints them).
check_help() {
  local sub="$1"
  shift
  local out="$WORK/help-$sub.txt" rc=0
  "$MTIF" "$sub" --help >"$out" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || fail "mtif $sub --help exited with $rc"
  grep -q "Example" "$out" || fail "mtif $sub --help shows no Example"
  grep -q "mtif $sub " "$out" || fail "mtif $sub --help: the example does not run 'mtif $sub'"
  for s in "$@"; do
    grep -qF -- "$s" "$out" || fail "mtif $sub --help lacks '$s':"$'\n'"$(cat "$out")"
  done
}

model_defaults=("--model TEXT:{linear,mlp,torchscript,vmtl,feedback}=linear" "=squared" "--lambda-task FLOAT:POSITIVE=1" \
                "--lambda-shared FLOAT:POSITIVE=1" "--target TEXT=y" "--task-column TEXT=task")
check_help demo "--out-dir TEXT=mtif-demo" "--seed UINT=7"
check_help generate "--tasks INT:POSITIVE=6" "--features INT:POSITIVE=8" "--test-rows INT=200" "--seed UINT=7" \
  "--out-dir TEXT=synthetic"
check_help fit "${model_defaults[@]}" "--module TEXT:FILE" "--shared TEXT=[trunk.*]" "--task-params TEXT=heads.{k}.*" "--sharing TEXT:{hard,soft}=hard"
check_help influence "${model_defaults[@]}" "=first-order" "=tasks" \
  "train_row,train_task,target_task,loss_change_if_removed,task_part,shared_part"
check_help loo "${model_defaults[@]}" "=tasks" "--rows"
check_help relatedness "${model_defaults[@]}" "--method TEXT:{mtif,newton,retrain,tag,gradcos,vmtl,feedback,surrogate,gradient-estimate}=mtif" \
  "--subsets INT:INT in [2 - 1000000]=200" "--subset-losses TEXT:{retrain,newton,gradient}=retrain"
check_help group "${model_defaults[@]}" "--method TEXT:{mtif,newton,retrain,tag,gradcos,surrogate,gradient-estimate}=newton" \
  "--search TEXT:{auto,exact,brute-force,greedy}=auto" "--affinity" "--valid"
check_help select "${model_defaults[@]}" "--budget FLOAT:FLOAT in [0 - 1]=0.05" "--repeats" "--valid"
check_help sources "${model_defaults[@]}" "--target-task" "--top INT=10"
check_help lds "${model_defaults[@]}" "--subsets INT:INT in [3 - 100000]=50" "--solver TEXT:{exact,cg,lissa,ekfac}=cg"
check_help run "--config FILE"
# Every subcommand has --quiet and --verbose and names --config.
for sub in demo generate fit influence loo relatedness lds report; do
  check_help "$sub" "-q,--quiet" "-v,--verbose" "--config FILE"
done

# The top-level help lists every subcommand.
"$MTIF" --help >"$WORK/help.txt" 2>&1 || fail "mtif --help exited non-zero"
for sub in demo generate fit influence loo relatedness group lds report select sources images run; do
  grep -qE "^  $sub " "$WORK/help.txt" || fail "mtif --help does not list $sub"
done
# No subcommand, or an unknown one, is an error (non-zero exit).
"$MTIF" >/dev/null 2>&1 && fail "mtif without a subcommand exited 0"
"$MTIF" frobnicate >/dev/null 2>&1 && fail "mtif frobnicate exited 0"
echo "ok: help"
