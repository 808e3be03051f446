#!/usr/bin/env bash
# plugin.sh MTIF WORK: the neural models are a plugin (src/models/plugin/network_plugin.hpp).
# `mtif` itself does not link LibTorch, so linear runs start fast; without the
# plugin, --model mlp / vmtl / feedback fail with one line naming the missing
# file and write nothing, while linear commands run as before.
source "$(dirname "$0")/lib.sh"
if command -v ldd >/dev/null; then
  ! ldd "$MTIF" | grep -q "libtorch" || fail "mtif links LibTorch: $(ldd "$MTIF" | grep libtorch | head -n 1)"
fi
D="$WORK/data"
"$MTIF" generate --tasks 2 --features 3 --rows 20 --test-rows 5 --loss logistic --seed 1 --out-dir "$D" -q ||
  fail "generate failed"
mkdir -p "$WORK/empty"
export MTIF_PLUGIN_DIR="$WORK/empty"
"$MTIF" fit --train "$D/train.csv" --test "$D/test.csv" --loss logistic -q --json "$WORK/linear.json" ||
  fail "a linear fit needs the plugin"
for model in mlp vmtl feedback; do
  rc=0
  "$MTIF" fit --train "$D/train.csv" --test "$D/test.csv" --loss logistic --model "$model" --json "$WORK/$model.json" \
    -q 2>"$WORK/err.txt" || rc=$?
  [ "$rc" -ne 0 ] || fail "--model $model ran without the plugin"
  [ "$(wc -l <"$WORK/err.txt")" -eq 1 ] || fail "--model $model: not one line: $(cat "$WORK/err.txt")"
  grep -q "libmtif_network.so" "$WORK/err.txt" || fail "--model $model: the message does not name the plugin"
  [ ! -e "$WORK/$model.json" ] || fail "--model $model wrote output although it failed"
done
echo "ok: plugin"
