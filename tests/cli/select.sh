#!/usr/bin/env bash
# select.sh MTIF WORK PYTHON3: mtif select (MTIF pruning + baselines on a
# validation split, judged on test), relatedness --method tag|gradcos and
# mtif sources on small generated data whose harmful rows are known.
source "$(dirname "$0")/lib.sh"
PY="$3"
set -e
D="$WORK/data"
"$MTIF" generate --tasks 5 --features 4 --rows 60 --test-rows 80 --label-noise 0.1 --conflicting 1 --seed 5 --out-dir "$D" -q
# Split the generated test rows into a validation half and a test half (alternate lines).
awk 'NR == 1 || NR % 2 == 0' "$D/test.csv" >"$D/valid.csv"
awk 'NR == 1 || NR % 2 == 1' "$D/test.csv" >"$D/test2.csv"
data=(--train "$D/train.csv" --valid "$D/valid.csv" --test "$D/test2.csv")

"$MTIF" select "${data[@]}" --budget 0.1 --repeats 3 --truth "$D/truth.csv" --rows-out "$WORK/rows.csv" \
  --json "$WORK/all.json" >"$WORK/all.txt"
grep -q "^mtif " "$WORK/all.txt" || fail "no mtif line in the printed table"
"$MTIF" select "${data[@]}" --budget 0.1 --repeats 3 --include-own --json "$WORK/own.json" -q
"$MTIF" select "${data[@]}" --budget 0.1 --repeats 3 --include-own --agree-halves --rows-out "$WORK/agree_rows.csv" \
  --json "$WORK/agree.json" -q
"$MTIF" select "${data[@]}" --intercept --budget 0.05 --target-task task1 --baseline random,task --json "$WORK/t1.json" \
  --rows-out "$WORK/t1rows.csv" -q
[ "$(first_line "$WORK/rows.csv")" = "method,train_row,train_task,combined_score" ] || fail "rows-out header"
if grep -q '^mtif,[0-9]*,task1,' "$WORK/t1rows.csv"; then fail "--target-task task1 dropped task1's own rows"; fi

"$PY" - "$WORK" <<'PYEOF'
import json, sys
w = sys.argv[1]
a = json.load(open(w + "/all.json"))
assert a["command"] == "select", a["command"]
names = [m["method"] for m in a["methods"]]
assert names == ["mtif", "random", "loss", "task"], names
m = {x["method"]: x for x in a["methods"]}
assert a["train_rows"] == 300 and a["max_rows"] == 30, (a["train_rows"], a["max_rows"])
assert 0 < m["mtif"]["rows_selected"] <= 30
assert m["random"]["rows_selected"] == m["loss"]["rows_selected"] == m["mtif"]["rows_selected"]
assert m["random"]["repeats"] == 3 and len(m["random"]["draws"]) == 3
# --include-own: rows scored by their effect on every task's validation loss. Dropping those predicted
# to hurt it lowers it, below full data and random removal (first-order prediction, checked by refit).
o = json.load(open(w + "/own.json"))
om = {x["method"]: x for x in o["methods"]}
assert om["mtif"]["valid_loss"] < o["full_data"]["valid_loss"], (om["mtif"], o["full_data"])
assert om["mtif"]["valid_loss"] < om["random"]["valid_loss"], (om["mtif"], om["random"])
for k in ("test_loss", "test_rmse", "test_loss_per_task"):
    assert k in m["mtif"], k
t = a["truth"]
truth = [l.rstrip("\n").split(",") for l in open(w + "/data/truth.csv")][1:]
harmful = sum(1 for r in truth if r[2] == "1" or r[3] == "1")  # corrupted label or conflicting task
assert t["mtif"]["harmful"] == harmful and harmful >= 60, (t["mtif"], harmful)
base = harmful / 300
assert t["mtif"]["precision"] > 2 * base, (t["mtif"], base)
for key in ("settings", "timings", "seed", "budget"):
    assert key in a, key
assert a["settings"]["valid"].endswith("valid.csv")
g = json.load(open(w + "/agree.json"))
assert g["settings"]["agree_halves"] is True
gm = {x["method"]: x for x in g["methods"]}
# The agreement guard only removes candidates: MTIF drops at most as many rows, all of them also picked
# from the rows --include-own ranks (the random baseline still draws from every row).
assert gm["mtif"]["rows_selected"] <= om["mtif"]["rows_selected"]
assert gm["mtif"]["valid_loss"] < g["full_data"]["valid_loss"]
b = json.load(open(w + "/t1.json"))
assert b["target_task"] == "task1"
assert [x["method"] for x in b["methods"]] == ["mtif", "random", "task"]
task = [x for x in b["methods"] if x["method"] == "task"][0]
assert "task1" not in task["tasks_removed"]
PYEOF

# Bad validation file: one line naming file, line and column; no summary written.
cp "$D/valid.csv" "$WORK/bad.csv"
sed -i '3s/^\([^,]*\),[^,]*,/\1,abc,/' "$WORK/bad.csv"
expect_refused "bad.csv:3:2:" "'y'" "$WORK/bad.json" -- \
  "$MTIF" select --train "$D/train.csv" --valid "$WORK/bad.csv" --test "$D/test2.csv" --json "$WORK/bad.json" -q

# Task-level baselines, validated against brute-force leave-one-task-out.
for method in tag gradcos; do
  "$MTIF" relatedness --train "$D/train.csv" --test "$D/test2.csv" --method $method --trajectory-steps 50 \
    --validate --out "$WORK/R_$method.csv" --json "$WORK/R_$method.json" -q
  [ "$(wc -l <"$WORK/R_$method.csv")" -eq 26 ] || fail "$method: expected 25 matrix lines"
done
"$PY" - "$WORK" <<'PYEOF'
import json, sys
for method in ("tag", "gradcos"):
    j = json.load(open(f"{sys.argv[1]}/R_{method}.json"))
    v = j["versus_retrain"]
    assert j["settings"]["method"] == method and j["settings"]["trajectory"]["steps"] == 50
    assert -1 <= v["mean_spearman"] <= 1 and v["method_seconds"] >= 0, v
    # The conflicting task (task4) hurts every other task in truth; both baselines rank it last for each.
    for t in ("task0", "task1", "task2", "task3"):
        assert t in v["spearman_between_tasks_per_target"], t
    R = j["matrix"]
    for k in range(4):
        assert R[4][k] == min(R[l][k] for l in range(5) if l != k), (method, k)
PYEOF

# Instance-level sources of one target.
"$MTIF" sources --train "$D/train.csv" --test "$D/test2.csv" --target-task task0 --top 3 --out "$WORK/src.csv" \
  --rows-out "$WORK/src_rows.csv" -q
[ "$(first_line "$WORK/src.csv")" = "source_task,target_task,rows,harmful_rows,total,helpful,harmful" ] || fail "sources header"
[ "$(wc -l <"$WORK/src.csv")" -eq 6 ] || fail "sources: expected 5 source lines"
# The most harmful source of task0 (first line, sorted by total) is the conflicting task4.
sed -n 2p "$WORK/src.csv" | grep -q '^task4,' || fail "task4 is not the most harmful source of task0: $(sed -n 2p "$WORK/src.csv")"
[ "$(first_line "$WORK/src_rows.csv")" = "source_task,kind,rank,train_row,loss_change_if_removed" ] || fail "rows header"
echo "select.sh: ok"
