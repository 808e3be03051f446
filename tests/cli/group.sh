#!/usr/bin/env bash
# group.sh MTIF WORK PYTHON: mtif group on generated data with two planted clusters of tasks
# (three tasks along the shared direction, three against it: --conflicting 3), for every linear
# relatedness measure; the groups from --affinity equal those of --method; bad input refused.
source "$(dirname "$0")/lib.sh"
PYTHON="${3:-python3}"

"$MTIF" generate --tasks 6 --features 5 --rows 40 --test-rows 100 --conflicting 3 --similarity 0.95 \
  --label-noise 0 --seed 3 --out-dir "$WORK/data" -q || fail "generate"
python_split() {  # the planted clusters, from truth.csv's conflicting_task column
  "$PYTHON" - "$WORK/data/truth.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
against = sorted({r["task"] for r in rows if r["conflicting_task"] == "1"})
along = sorted({r["task"] for r in rows} - set(against))
print(";".join(sorted([",".join(along), ",".join(against)])))
PY
}
planted="$(python_split)"
[ "$(echo "$planted" | tr ';,' '\n\n' | wc -l)" -eq 6 ] || fail "planted clusters not read: $planted"
data=(--train "$WORK/data/train.csv" --test "$WORK/data/test.csv" --lambda-task 0.1 --lambda-shared 0.1)

for method in mtif newton retrain tag gradcos surrogate gradient-estimate; do
  out="$WORK/groups_$method.csv"
  "$MTIF" group "${data[@]}" --method "$method" --groups 2,3 --out "$out" --json "$out.json" -q \
    2>"$WORK/stderr.txt" || fail "group --method $method: $(cat "$WORK/stderr.txt")"
  [ "$(first_line "$out")" = "groups,group,task,test_loss,all_tasks_loss,single_task_loss" ] || fail "$out header"
  [ "$(grep -c '^2,' "$out")" -eq 6 ] && [ "$(grep -c '^3,' "$out")" -eq 6 ] || fail "$out: not 6 tasks per budget"
  "$PYTHON" - "$out.json" "$planted" "$method" <<'PY' || fail "group --method $method: checks of $out.json"
import json, sys
j, planted, method = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
two = next(b for b in j["budgets"] if b["groups"] == 2)
found = ";".join(sorted(",".join(sorted(g)) for g in two["partition"]))
assert found == planted, f"{method}: 2 groups {found}, planted {planted}"
three = next(b for b in j["budgets"] if b["groups"] == 3)
assert len(three["partition"]) == 3 and sum(len(g) for g in three["partition"]) == 6
assert two["search"] == "exact", two["search"]
# The planted groups beat one model for all tasks (the two clusters pull the shared part apart).
assert two["mean_test_loss"] < j["all_tasks"]["mean_test_loss"], (two["mean_test_loss"], j["all_tasks"])
if method not in ("tag", "gradcos"):
    assert any("--valid" in w for w in j["warnings"]), j["warnings"]
PY
done

# --affinity: the file of mtif relatedness gives the same groups as --method; --valid is recorded.
"$MTIF" relatedness "${data[@]}" --method newton --out "$WORK/R.csv" -q || fail "relatedness"
"$MTIF" group "${data[@]}" --affinity "$WORK/R.csv" --groups 2 --out "$WORK/from_file.csv" -q || fail "group --affinity"
[ "$(tail -n +2 "$WORK/from_file.csv")" = "$(grep '^2,' "$WORK/groups_newton.csv")" ] || fail "--affinity groups differ"
"$MTIF" group "${data[@]}" --valid "$WORK/data/test.csv" --groups 2 --out "$WORK/v.csv" --json "$WORK/v.json" -q \
  2>"$WORK/stderr.txt" || fail "group --valid"
[ ! -s "$WORK/stderr.txt" ] || fail "--valid still warns: $(cat "$WORK/stderr.txt")"
grep -q '"chosen_on": "the --valid rows"' "$WORK/v.json" || fail "v.json does not say the groups were chosen on --valid"
# A summary replays: mtif run --config gives the same file (also for --affinity, whose summary carries --method's default).
"$MTIF" group "${data[@]}" --affinity "$WORK/R.csv" --groups 2 --out "$WORK/from_file.csv" --json "$WORK/from_file.json" -q
mv "$WORK/from_file.csv" "$WORK/first.csv"
"$MTIF" run --config "$WORK/from_file.json" -q || fail "mtif run --config of a group summary"
cmp -s "$WORK/first.csv" "$WORK/from_file.csv" || fail "the replayed group run wrote another file"

# Bad input: one line, non-zero exit, no output file.
refused() {  # NEEDLE -- COMMAND...
  local needle="$1" rc=0
  shift 2
  rm -f "$WORK/bad.csv"
  "$@" >/dev/null 2>"$WORK/stderr.txt" || rc=$?
  [ "$rc" -ne 0 ] || fail "accepted: $*"
  [ "$(wc -l <"$WORK/stderr.txt")" -eq 1 ] || fail "not one line on stderr: $(cat "$WORK/stderr.txt")"
  grep -qF -- "$needle" "$WORK/stderr.txt" || fail "stderr lacks '$needle': $(cat "$WORK/stderr.txt")"
  [ ! -e "$WORK/bad.csv" ] || fail "bad.csv written by a refused run: $*"
  [ -z "$(leftovers "$WORK")" ] || fail "temporary files left: $(leftovers "$WORK")"
}
refused "between 1 and the 6 tasks" -- "$MTIF" group "${data[@]}" --groups 7 --out "$WORK/bad.csv" -q
refused "between 1 and the 6 tasks" -- "$MTIF" group "${data[@]}" --groups 2,0 --out "$WORK/bad.csv" -q
refused "not both" -- "$MTIF" group "${data[@]}" --method mtif --affinity "$WORK/R.csv" --groups 2 --out "$WORK/bad.csv" -q
refused "--model linear" -- "$MTIF" group "${data[@]}" --model mlp --groups 2 --out "$WORK/bad.csv" -q
head -n 20 "$WORK/R.csv" >"$WORK/short.csv"
refused "no entry for source" -- "$MTIF" group "${data[@]}" --affinity "$WORK/short.csv" --groups 2 --out "$WORK/bad.csv" -q
sed '3s/,[^,]*$/,nan/' "$WORK/R.csv" >"$WORK/nan.csv"
refused "nan.csv:3:3:" -- "$MTIF" group "${data[@]}" --affinity "$WORK/nan.csv" --groups 2 --out "$WORK/bad.csv" -q
sed '4s/^task[0-9]/nosuch/' "$WORK/R.csv" >"$WORK/unknown.csv"
refused "unknown.csv:4:1: 'nosuch" -- "$MTIF" group "${data[@]}" --affinity "$WORK/unknown.csv" --groups 2 --out "$WORK/bad.csv" -q
echo "source,target,value" >"$WORK/header.csv"
refused "header.csv:1:1: expected the header" -- "$MTIF" group "${data[@]}" --affinity "$WORK/header.csv" --groups 2 --out "$WORK/bad.csv" -q
"$MTIF" generate --tasks 13 --features 2 --rows 10 --test-rows 5 --seed 1 --out-dir "$WORK/k13" -q
refused "--search exact is for at most 12 tasks" -- "$MTIF" group --train "$WORK/k13/train.csv" --test "$WORK/k13/test.csv" \
  --search exact --groups 2 --out "$WORK/bad.csv" -q
echo "ok: group"
