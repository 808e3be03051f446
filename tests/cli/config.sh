#!/usr/bin/env bash
# config.sh MTIF WORK PYTHON: JSON run files and reproducible summaries.
#  - a summary's "config" reproduces the run byte for byte (mtif run --config SUMMARY.json);
#  - a hand-written run file equals the same flags on the command line;
#  - command-line flags win over the file; a file for another subcommand and
#    an unknown key are refused.
source "$(dirname "$0")/lib.sh"
PY="$3"
set -e
D="$WORK/data"
"$MTIF" generate --tasks 5 --features 4 --rows 40 --test-rows 15 --seed 3 --out-dir "$D" -q
data=(--train "$D/train.csv" --test "$D/test.csv")

# 1. Non-default settings, then reproduce from the summary alone (to other files).
"$MTIF" influence "${data[@]}" --lambda-task 0.37 --lambda-shared 2.5 --intercept --mode exact --targets rows \
  --out "$WORK/a.csv" --json "$WORK/a.json" -q
"$PY" - "$WORK/a.json" <<'PYEOF'
import json, sys
s = json.load(open(sys.argv[1]))
c = s["config"]
assert s["reproduce"].startswith("mtif run --config "), s["reproduce"]
assert c["command"] == "influence" and c["lambda-task"] == 0.37 and c["lambda-shared"] == 2.5, c
assert c["intercept"] is True and c["mode"] == "exact" and c["targets"] == "rows", c
assert c["loss"] == "squared", "defaults are pinned too"
PYEOF
"$MTIF" run --config "$WORK/a.json" --out "$WORK/b.csv" --json "$WORK/b.json" -q
cmp -s "$WORK/a.csv" "$WORK/b.csv" || fail "mtif run --config SUMMARY did not reproduce the scores"
"$MTIF" influence --config "$WORK/a.json" --out "$WORK/c.csv" -q
cmp -s "$WORK/a.csv" "$WORK/c.csv" || fail "influence --config SUMMARY did not reproduce the scores"

# The demo's summary.json repeats the demo (another seed, so not the defaults).
"$MTIF" demo --out-dir "$WORK/demo1" --seed 5 --loo-rows 10 -q
"$MTIF" run --config "$WORK/demo1/summary.json" --out-dir "$WORK/demo2"
for f in scores.csv relatedness.csv loo.csv; do
  cmp -s "$WORK/demo1/$f" "$WORK/demo2/$f" || fail "the demo's summary did not reproduce $f"
done

# 2. A hand-written run file = the same flags; numbers and strings both accepted.
cat >"$WORK/run.json" <<JSON
{"command": "relatedness", "train": "$D/train.csv", "test": "$D/test.csv",
 "method": "newton", "lambda-task": "0.5", "lambda-shared": 3, "out": "$WORK/R-file.csv", "quiet": true}
JSON
"$MTIF" run --config "$WORK/run.json"
"$MTIF" relatedness "${data[@]}" --method newton --lambda-task 0.5 --lambda-shared 3 --out "$WORK/R-flags.csv" -q
cmp -s "$WORK/R-file.csv" "$WORK/R-flags.csv" || fail "run file and flags differ"

# 3. The command line wins over the file.
"$MTIF" run --config "$WORK/run.json" --method mtif --out "$WORK/R-mtif.csv"
"$MTIF" relatedness "${data[@]}" --method mtif --lambda-task 0.5 --lambda-shared 3 --out "$WORK/R-mtif-flags.csv" -q
cmp -s "$WORK/R-mtif.csv" "$WORK/R-mtif-flags.csv" || fail "a command-line flag did not override the file"

# 4. Refusals: another subcommand's file, an unknown key, no command.
rc=0; "$MTIF" loo --config "$WORK/run.json" --rows 0-3 2>"$WORK/err.txt" || rc=$?
[ $rc -ne 0 ] && grep -q "for 'mtif relatedness'" "$WORK/err.txt" || fail "a relatedness file ran loo: $(cat "$WORK/err.txt")"
echo "{\"command\": \"fit\", \"train\": \"$D/train.csv\", \"test\": \"$D/test.csv\", \"lambda-tusk\": 1}" >"$WORK/bad.json"
rc=0; "$MTIF" run --config "$WORK/bad.json" 2>"$WORK/err.txt" || rc=$?
[ $rc -ne 0 ] && grep -q "lambda-tusk" "$WORK/err.txt" || fail "an unknown key was accepted: $(cat "$WORK/err.txt")"
echo '{"train": "x.csv"}' >"$WORK/nocmd.json"
rc=0; "$MTIF" run --config "$WORK/nocmd.json" 2>"$WORK/err.txt" || rc=$?
[ $rc -ne 0 ] && grep -q '"command"' "$WORK/err.txt" || fail "a file without a command was accepted: $(cat "$WORK/err.txt")"
echo "ok: config"
