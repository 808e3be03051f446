#!/usr/bin/env bash
# solver_warnings.sh MTIF WORK conditioning|iterative: warnings that say a result may be inaccurate
# (issue 13) name what they concern, on stderr and in the --json summary.
#  1. A block whose condition estimate is above 1e12 warns with the estimate
#     and the task's name; the same data with ordinary lambdas does not warn.
#  2. A CG or LiSSA solve stopped before its tolerance says so for each target
#     task, on stderr and in the summary's "solves" list; a converged run lists
#     every solve as converged and warns nothing.
source "$(dirname "$0")/lib.sh"
set -e
part="${3:?part: conditioning or iterative}"
cd "$WORK"

if [ "$part" = conditioning ]; then

# Two tasks whose two features are a and 2a: with lambdas 1e-13 the blocks are
# singular but for the penalty (condition ~1e13); with lambdas 0.1, ~1e2.
{
  echo "task,y,a,b"
  for i in 1 2 3 4 5 6; do
    echo "alpha,$i.5,$i,$((2 * i))"
    echo "beta,-$i.25,-$i,-$((2 * i))"
  done
} >collinear.csv
"$MTIF" influence --train collinear.csv --test collinear.csv --lambda-task 1e-13 --lambda-shared 1e-13 \
  --out ill.csv --json ill.json -q 2>ill.err
grep -q "block A_0 (task 'alpha') is ill-conditioned (condition estimate [0-9.]*e+1[2-9])" ill.err ||
  fail "no warning naming task alpha with an estimate above 1e12: $(cat ill.err)"
grep -q "task 'beta'" ill.err || fail "no warning naming task beta: $(cat ill.err)"
/usr/bin/python3 - ill.json <<'PY' || fail "summary lacks the conditioning warnings"
import json, sys
w = json.load(open(sys.argv[1]))["warnings"]
assert any("task 'alpha'" in x and "condition estimate" in x for x in w), w
PY
"$MTIF" influence --train collinear.csv --test collinear.csv --lambda-task 0.1 --lambda-shared 0.1 \
  --out fine.csv -q 2>fine.err
[ ! -s fine.err ] || fail "a well-conditioned run warned: $(cat fine.err)"
echo "conditioning warnings name their task, on stderr and in the summary"
exit 0
fi
[ "$part" = iterative ] || fail "unknown part '$part'"

# A small network; 2 CG iterations cannot reach 1e-8 on its Schur complement.
"$MTIF" generate --tasks 3 --features 5 --rows 40 --test-rows 20 --seed 3 --out-dir data -q
net=(--train data/train.csv --test data/test.csv --model mlp --hidden 6 --epochs 30 -q)
for solver in cg lissa; do
  if [ $solver = cg ]; then short=(--cg-iterations 2); else short=(--lissa-depth 2); fi
  "$MTIF" influence "${net[@]}" --solver $solver "${short[@]}" --out short.csv --json short.json 2>short.err
  for task in task0 task1 task2; do
    grep -qi "$solver solve [0-9]* (target task '$task') did not converge: relative residual" short.err ||
      fail "$solver: stderr does not name task $task: $(cat short.err)"
  done
  /usr/bin/python3 - short.json $solver <<'PY' || fail "$solver: summary lacks the stopped solves"
import json, sys
j = json.load(open(sys.argv[1]))
solves = j["solves"]
assert len(solves) == 3 and all(not s["converged"] and s["solver"] == sys.argv[2] for s in solves), solves
assert sorted(s["target"] for s in solves) == ["task 'task0'", "task 'task1'", "task 'task2'"], solves
assert sum("did not converge" in w for w in j["warnings"]) == 3, j["warnings"]
PY
done
"$MTIF" influence "${net[@]}" --solver cg --out full.csv --json full.json 2>full.err
[ ! -s full.err ] || fail "a converged CG run warned: $(cat full.err)"
/usr/bin/python3 - full.json <<'PY' || fail "converged run: summary solves wrong"
import json, sys
solves = json.load(open(sys.argv[1]))["solves"]
assert len(solves) == 3 and all(s["converged"] for s in solves), solves
PY
echo "stopped CG and LiSSA solves name their target task, on stderr and in the summary"
