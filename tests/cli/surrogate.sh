#!/usr/bin/env bash
# surrogate.sh MTIF WORK PYTHON3: relatedness --method surrogate / gradient-estimate
# (issue 14): the relatedness file and JSON of every method, held-out R^2, the
# subsets file, --compare-subsets, and refusals, on small generated data.
source "$(dirname "$0")/lib.sh"
PY="$3"
set -e
D="$WORK/data"
"$MTIF" generate --tasks 5 --features 3 --rows 40 --test-rows 60 --seed 3 --out-dir "$D" -q
data=(--train "$D/train.csv" --test "$D/test.csv" --lambda-task 0.5 --lambda-shared 0.5)

"$MTIF" relatedness "${data[@]}" --method newton --out "$WORK/R_newton.csv" -q
"$MTIF" relatedness "${data[@]}" --method surrogate --subset-losses newton --subsets 80 --validate-subsets 30 \
  --subsets-out "$WORK/subsets.csv" --validate --compare-subsets 40 --out "$WORK/R_newton_sur.csv" \
  --json "$WORK/newton_sur.json" 2>"$WORK/stderr.txt" >/dev/null
grep -q "held-out R^2 of the surrogate on 30 subsets" "$WORK/stderr.txt" || fail "no held-out R^2 on stderr: $(cat "$WORK/stderr.txt")"
"$MTIF" relatedness "${data[@]}" --method surrogate --subsets 80 --validate-subsets 30 --out "$WORK/R_retrain_sur.csv" \
  --json "$WORK/retrain_sur.json" -q
"$MTIF" relatedness "${data[@]}" --method gradient-estimate --projection-dim 6 --subsets 80 --validate-subsets 30 \
  --compare-subsets 40 --out "$WORK/R_grad.csv" --json "$WORK/grad.json" -q
"$MTIF" relatedness "${data[@]}" --method mtif --compare-subsets 40 --out "$WORK/R_mtif.csv" --json "$WORK/mtif.json" -q
[ "$(first_line "$WORK/R_newton_sur.csv")" = "source_task,target_task,loss_change_if_removed" ] || fail "relatedness header"
[ "$(first_line "$WORK/subsets.csv")" = "subset,role,kept,target_task,loss" ] || fail "subsets header"

"$PY" - "$WORK" <<'PYEOF'
import csv, json, sys
w = sys.argv[1]
def matrix(path):
    return {(r["source_task"], r["target_task"]): float(r["loss_change_if_removed"]) for r in csv.DictReader(open(path))}
newton, sur, sur_retrain = matrix(w + "/R_newton.csv"), matrix(w + "/R_newton_sur.csv"), matrix(w + "/R_retrain_sur.csv")
assert len(sur) == 25 and sur.keys() == newton.keys()
# Newton subset losses are refits for the squared loss: the two surrogates are the same.
assert max(abs(sur[k] - sur_retrain[k]) for k in sur) < 1e-8, "newton and retrain subset losses differ"
# A task helps itself, in both matrices (the project's sign: > 0 = removing it raises the loss).
for t in ["task0", "task1", "task2", "task3", "task4"]:
    assert newton[(t, t)] > 0 and sur[(t, t)] > 0, t
j = json.load(open(w + "/newton_sur.json"))
assert j["settings"]["method"] == "surrogate"
s = j["settings"]["surrogate"]
assert s["subsets"] == 80 and s["subset_losses"] == "newton" and s["held_out_subsets"] == 30
assert set(j["held_out_r2_per_target"]) == {"task0", "task1", "task2", "task3", "task4"}
assert -10 < j["mean_held_out_r2"] <= 1
assert j["versus_retrained_subsets"]["subsets"] == 40
assert -1 <= j["versus_retrained_subsets"]["mean_spearman"] <= 1
assert "mean_spearman" in j["versus_retrain"]
# The subsets file: 80 fitted + 30 held-out subsets, one line per target each.
rows = list(csv.DictReader(open(w + "/subsets.csv")))
assert len(rows) == (80 + 30) * 5, len(rows)
assert sum(r["role"] == "held-out" for r in rows) == 30 * 5
assert all(len(r["kept"]) == 5 and set(r["kept"]) <= {"0", "1"} and "1" in r["kept"] for r in rows)
g = json.load(open(w + "/grad.json"))
assert g["settings"]["method"] == "gradient-estimate" and g["settings"]["surrogate"]["subset_losses"] == "gradient"
assert g["settings"]["surrogate"]["projection"] == {"dim": 6, "parameters": 18, "used": True}
m = json.load(open(w + "/mtif.json"))
# The same --subset-seed gives every method the same comparison subsets.
assert m["versus_retrained_subsets"]["subset_seed"] == j["versus_retrained_subsets"]["subset_seed"]
PYEOF

refused() {  # refused NEEDLE ARGS...: non-zero exit, one line naming NEEDLE, no output file
  local needle="$1"; shift
  rm -f "$WORK/R_bad.csv"
  rc=0; "$MTIF" relatedness "${data[@]}" "$@" --out "$WORK/R_bad.csv" -q 2>"$WORK/err.txt" || rc=$?
  [ "$rc" -ne 0 ] || fail "exit 0 for $*"
  # CLI11's own range checks add a "Run with --help" line; the engine's refusals are one line.
  [ "$(grep -cv "^Run with --help" "$WORK/err.txt")" -eq 1 ] || fail "not one line for $*: $(cat "$WORK/err.txt")"
  grep -qF -- "$needle" "$WORK/err.txt" || fail "stderr lacks '$needle' for $*: $(cat "$WORK/err.txt")"
  [ ! -e "$WORK/R_bad.csv" ] || fail "output written although $* was refused"
}
# --score: a relatedness file scored against the linear model's truth gives the numbers of the
# method that wrote it (here newton, computed directly with the same truth flags).
"$MTIF" relatedness "${data[@]}" --method newton --validate --compare-subsets 40 --out "$WORK/R_n2.csv" \
  --json "$WORK/newton.json" -q
"$MTIF" relatedness "${data[@]}" --score "$WORK/R_n2.csv" --validate --compare-subsets 40 --out "$WORK/R_scored.csv" \
  --json "$WORK/scored.json" -q
cmp -s "$WORK/R_n2.csv" "$WORK/R_scored.csv" || fail "--score rewrote a different matrix"
"$PY" - "$WORK/newton.json" "$WORK/scored.json" <<'PYEOF'
import json, sys
n, s = (json.load(open(p)) for p in sys.argv[1:3])
assert s["settings"]["method"] == "score" and s["settings"]["scored_file"].endswith("R_n2.csv")
for key in ("mean_spearman", "mean_spearman_between_tasks"):
    assert abs(n["versus_retrain"][key] - s["versus_retrain"][key]) < 1e-12, key
assert abs(n["versus_retrained_subsets"]["mean_spearman"] - s["versus_retrained_subsets"]["mean_spearman"]) < 1e-12
PYEOF
# Without a diagonal (as vmtl writes none for some tasks) the file still scores; a missing pair is refused.
grep -v "^task1,task1," "$WORK/R_n2.csv" >"$WORK/R_nodiag.csv"
"$MTIF" relatedness "${data[@]}" --score "$WORK/R_nodiag.csv" --validate --out "$WORK/R_scored.csv" -q
grep -v "^task1,task2," "$WORK/R_n2.csv" >"$WORK/R_gap.csv"
refused "R_gap.csv: no entry for source task1 on target task2" --score "$WORK/R_gap.csv"
refused "--score reads its matrix from the file" --score "$WORK/R_n2.csv" --method tag
refused "gradient-estimate uses --subset-losses gradient" --method gradient-estimate --subset-losses newton
refused "--subsets" --method surrogate --subsets 1
refused "--subset-size" --method surrogate --subset-size 0
refused "for the linear model" --method surrogate --model mlp
echo "surrogate.sh: ok"
