#!/usr/bin/env bash
# torchscript.sh MTIF WORK: --model torchscript on a user's PyTorch module.
# The built-in network exported as TorchScript with the same weights scores
# exactly as --model mlp (same solver, 1e-9 relative): one engine. Every
# command runs on it; weights far from a stationary point are warned about;
# every bad module is refused with one line, exit 2 and nothing written.
source "$(dirname "$0")/lib.sh"
set -e
HERE="$(dirname "$0")"
PY=/usr/bin/python3
D="$WORK/data"
"$MTIF" generate --tasks 3 --features 5 --rows 50 --test-rows 40 --loss logistic --seed 4 --out-dir "$D" -q
data=(--train "$D/train.csv" --test "$D/test.csv" --loss logistic --weight-decay 0.03 -q)
"$MTIF" fit "${data[@]}" --model mlp --hidden 6 --save "$WORK/model.json"
"$PY" "$HERE/export_mlp_torchscript.py" "$WORK/model.json" "$WORK/net.pt"
builtin=("${data[@]}" --model mlp --hidden 6 --model-file "$WORK/model.json")
scripted=("${data[@]}" --model torchscript --module "$WORK/net.pt")

# CG to a tolerance far below 1e-9, so that round-off in where it stops does not show.
for s in exact cg lissa; do
  for c in ggn hessian; do
    "$MTIF" influence "${builtin[@]}" --solver $s --curvature $c --cg-tolerance 1e-13 --out "$WORK/mlp-$s-$c.csv"
    "$MTIF" influence "${scripted[@]}" --solver $s --curvature $c --cg-tolerance 1e-13 --out "$WORK/ts-$s-$c.csv" \
      --json "$WORK/ts.json"
    "$PY" "$HERE/compare_scores.py" "$WORK/mlp-$s-$c.csv" "$WORK/ts-$s-$c.csv" 1e-9 >/dev/null ||
      fail "$s/$c: TorchScript scores differ from --model mlp"
  done
done

# EK-FAC finds the scripted twin's nn.Linear trunk layer in its graph: the
# same factors and scores as the built-in MLP's EK-FAC.
"$MTIF" influence "${builtin[@]}" --solver ekfac --out "$WORK/mlp-ekfac.csv"
"$MTIF" influence "${scripted[@]}" --solver ekfac --out "$WORK/ts-ekfac.csv"
"$PY" "$HERE/compare_scores.py" "$WORK/mlp-ekfac.csv" "$WORK/ts-ekfac.csv" 1e-9 >/dev/null ||
  fail "ekfac: TorchScript scores differ from --model mlp"

# A CNN: EK-FAC covers its Conv2d (by image patches) and Linear trunk layers
# and tracks the exact Gauss-Newton solve; a LayerNorm it cannot cover is named.
C="$WORK/conv"
"$MTIF" generate --tasks 3 --features 16 --rows 60 --test-rows 20 --loss logistic --seed 5 --out-dir "$C" -q
conv=(--train "$C/train.csv" --test "$C/test.csv" --loss logistic --weight-decay 0.03 -q --model torchscript
      --module-weights polish)
"$PY" "$HERE/conv_torchscript.py" "$C/cnn.pt" 3 4
"$PY" "$HERE/conv_torchscript.py" "$C/cnn-norm.pt" 3 4 --norm
for s in ekfac exact; do
  "$MTIF" influence "${conv[@]}" --module "$C/cnn.pt" --solver $s --out "$C/$s.csv" --json "$C/$s.json"
done
"$MTIF" influence "${conv[@]}" --module "$C/cnn-norm.pt" --solver ekfac --out "$C/norm.csv" 2>"$C/norm.err"
grep -q "trunk.5.weight, trunk.5.bias (6 parameters) are not in such a layer" "$C/norm.err" ||
  fail "ekfac: the LayerNorm parameters it cannot cover are not named: $(cat "$C/norm.err")"
"$PY" - "$C" <<'PY'
import csv, json, sys
import numpy as np
d = sys.argv[1]
assert json.load(open(f"{d}/ekfac.json"))["warnings"] == [], "EK-FAC left parameters of the CNN uncovered"
col = lambda p: np.array([float(r["loss_change_if_removed"]) for r in csv.DictReader(open(p))])
r = np.corrcoef(col(f"{d}/ekfac.csv"), col(f"{d}/exact.csv"))[0, 1]
assert r > 0.7, f"CNN EK-FAC vs exact Gauss-Newton: pearson {r:.3f}"
PY

# The other commands on the module.
"$MTIF" loo "${scripted[@]}" --solver exact --curvature hessian --damping 0 --rows 0-29 --out "$WORK/loo.csv" \
  --json "$WORK/loo.json"
"$MTIF" relatedness "${scripted[@]}" --method mtif --out "$WORK/R.csv"
"$MTIF" relatedness "${scripted[@]}" --method retrain --out "$WORK/R-retrain.csv"
"$MTIF" lds "${scripted[@]}" --subsets 6 --out "$WORK/lds.csv"
"$MTIF" sources "${scripted[@]}" --target-task task1 --top 2 --out "$WORK/sources.csv"
# select (validation split = every other test row) and the report of its summary.
head -1 "$D/test.csv" | tee "$WORK/valid.csv" >"$WORK/test2.csv"
awk 'NR > 1 && NR % 2 == 0' "$D/test.csv" >>"$WORK/valid.csv"
awk 'NR > 1 && NR % 2 == 1' "$D/test.csv" >>"$WORK/test2.csv"
"$MTIF" select --train "$D/train.csv" --valid "$WORK/valid.csv" --test "$WORK/test2.csv" --loss logistic \
  --weight-decay 0.03 -q --model torchscript --module "$WORK/net.pt" --budget 0.1 --repeats 1 --retrain-steps 50 \
  --rows-out "$WORK/select.csv" --json "$WORK/select.json"
"$MTIF" report --from "$WORK/select.json" --out "$WORK/select.html" -q
for f in loo.csv R.csv R-retrain.csv lds.csv sources.csv select.csv select.html; do [ -s "$WORK/$f" ] || fail "$f not written"; done
"$PY" - "$WORK/loo.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["first_order"]["all"]["spearman"] > 0.8, s["first_order"]
PY

# Training from the file's weights, and saving the trained module.
"$MTIF" fit "${scripted[@]}" --module-weights train --epochs 3 --save "$WORK/trained.pt"
"$MTIF" influence "${data[@]}" --model torchscript --module "$WORK/trained.pt" --out "$WORK/trained.csv"

# Weights far from a stationary point: one warning line, and the run goes on.
"$MTIF" fit "${data[@]}" --model mlp --hidden 6 --epochs 1 --polish-steps 0 --save "$WORK/rough.json"
"$PY" "$HERE/export_mlp_torchscript.py" "$WORK/rough.json" "$WORK/rough.pt"
"$MTIF" influence "${data[@]}" --model torchscript --module "$WORK/rough.pt" --out "$WORK/rough.csv" 2>"$WORK/warn.txt"
grep -q "not at a stationary point" "$WORK/warn.txt" || fail "no warning for weights far from a stationary point"

# Bad modules.
"$PY" "$HERE/bad_torchscript_modules.py" "$WORK"
echo "not a module" >"$WORK/text.pt"
"$MTIF" generate --tasks 4 --features 5 --rows 20 --test-rows 10 --loss logistic --seed 4 --out-dir "$WORK/four" -q
out="$WORK/bad.csv"
bad() {  # bad NEEDLE FLAGS...: refused with one line naming the module
  local needle="$1"
  shift
  expect_refused "pt" "$needle" "$out" -- "$MTIF" influence --loss logistic -q --out "$out" --json "$out.json" "$@"
}
train=(--train "$D/train.csv" --test "$D/test.csv" --model torchscript)
bad "not a TorchScript file" "${train[@]}" --module "$WORK/text.pt"
bad "has no method 'predict'" "${train[@]}" --module "$WORK/net.pt" --module-method predict
bad "matched by no pattern" "${train[@]}" --module "$WORK/net.pt" --task-params 'head.{k}.*'
bad "more than one pattern" "${train[@]}" --module "$WORK/net.pt" --shared 'trunk.*,heads.0.*'
bad "task 3 has no parameters" --train "$WORK/four/train.csv" --test "$WORK/four/test.csv" --model torchscript \
  --module "$WORK/net.pt"
bad "outputs have shape" "${train[@]}" --module "$WORK/wide.pt"
bad "NaN or infinite outputs" "${train[@]}" --module "$WORK/nan.pt"
echo "torchscript: OK"
