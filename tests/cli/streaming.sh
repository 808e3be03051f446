#!/usr/bin/env bash
# streaming.sh MTIF WORK PYTHON [MPIRUN]: out-of-core scoring (--memory, --reduce)
# gives the in-memory scores. A tiny --memory forces several chunks; the
# streamed float32 .npy is complete and equals the in-memory float64 matrix
# rounded to float32; the reductions equal the same reductions of the full
# matrix; bad --memory values are refused with one line and no output.
source "$(dirname "$0")/lib.sh"
set -e
PY="$3"
MPIRUN="${4:-}"
HERE="$(dirname "$0")"
D="$WORK/data"
"$MTIF" generate --tasks 4 --features 5 --rows 60,90,45,120 --test-rows 12 --seed 7 --out-dir "$D" -q
"$PY" "$HERE/csv_to_npy.py" "$D/train.csv" "$WORK/train"
"$PY" "$HERE/csv_to_npy.py" "$D/test.csv" "$WORK/test" "$D/train.csv"

# check_stream FULL.npy STREAMED.npy SUMMARY.json: shape, float32, every row
# written, values = float64 scores rounded (1e-6 of the column's largest: float32),
# several chunks used, nothing temporary left.
check_stream() {
  "$PY" - "$@" <<'PY' || fail "streamed $2 differs from in-memory $1"
import json, sys
import numpy as np
full, got, summary = np.load(sys.argv[1]), np.load(sys.argv[2]), json.load(open(sys.argv[3]))
assert got.dtype == np.float32, got.dtype
assert got.shape == full.shape, (got.shape, full.shape)
scale = np.abs(full).max(axis=0)
err = (np.abs(got.astype(np.float64) - full) / scale).max()
assert err < 1e-6, f"largest difference {err:.3g} of the column's largest score"
# Not merely close: the float64 matrix rounded to float32, up to one float32 step where rounding ties flip.
step = np.abs(np.spacing(full.astype(np.float32))).astype(np.float64)
assert (np.abs(got.astype(np.float64) - full.astype(np.float32).astype(np.float64)) <= step).all()
chunks = -(-summary["train_rows"] // summary["chunk_rows_pass2"])
assert chunks >= 3, f"only {chunks} chunk(s): the test must use several"
tasks = np.load(sys.argv[2] + ".train_task.npy")
assert tasks.shape == (full.shape[0],) and tasks.dtype == np.int32
side = json.load(open(sys.argv[2] + ".json"))
assert side["dtype"] == "float32" and len(side["columns"]) == full.shape[1]
print(f"max diff {err:.2e}, {chunks} chunks")
PY
  [ -z "$(find "$WORK" -name '*.partial' -o -name '*.tmp-*' | head -n 1)" ] || fail "temporary files left"
}

for targets in tasks rows; do
  for icpt in "" --intercept; do
    tag="$targets${icpt:+-icpt}"
    "$MTIF" influence --train "$D/train.csv" --test "$D/test.csv" --targets $targets $icpt --out "$WORK/full-$tag.npy" -q
    "$MTIF" influence --train "$D/train.csv" --test "$D/test.csv" --targets $targets $icpt --memory 48K \
      --out "$WORK/csv-$tag.npy" --json "$WORK/csv-$tag.json" -q
    check_stream "$WORK/full-$tag.npy" "$WORK/csv-$tag.npy" "$WORK/csv-$tag.json"
    "$MTIF" influence --train-npy "$WORK/train" --test-npy "$WORK/test" --targets $targets $icpt --memory 48K \
      --out "$WORK/npy-$tag.npy" --json "$WORK/npy-$tag.json" -q
    check_stream "$WORK/full-$tag.npy" "$WORK/npy-$tag.npy" "$WORK/npy-$tag.json"
  done
done

# Threads: each task's sums and rows keep file order, so 1 and 2 threads write the same bytes.
for threads in 1 2; do
  OMP_NUM_THREADS=$threads "$MTIF" influence --train-npy "$WORK/train" --test-npy "$WORK/test" --memory 48K \
    --out "$WORK/threads-$threads.npy" -q
done
cmp -s "$WORK/threads-1.npy" "$WORK/threads-2.npy" || fail "1 and 2 threads give different streamed scores"

# Reductions = the same reductions of the full float64 matrix (1e-10 relative).
"$MTIF" influence --train "$D/train.csv" --test "$D/test.csv" --out "$WORK/full.csv" -q
for src in csv npy; do
  data=(--train "$D/train.csv" --test "$D/test.csv")
  [ $src = npy ] && data=(--train-npy "$WORK/train" --test-npy "$WORK/test")
  "$MTIF" influence "${data[@]}" --memory 48K --reduce source-sums --out "$WORK/sums-$src.csv" -q
  "$MTIF" influence "${data[@]}" --memory 48K --reduce topk:7 --out "$WORK/top-$src.csv" -q
  "$PY" - "$WORK/full-tasks.npy" "$WORK/full-tasks.npy.json" "$WORK/sums-$src.csv" "$WORK/top-$src.csv" <<'PY' || fail "$src reductions"
import csv, json, sys
import numpy as np
full = np.load(sys.argv[1]); side = json.load(open(sys.argv[2]))
cols = side["columns"]; row_task = np.array(side["train_task"])
tasks = sorted(set(row_task), key=lambda s: cols.index(s) if s in cols else 0)
rows = list(csv.DictReader(open(sys.argv[3])))
assert len(rows) == len(tasks) * len(cols)
for r in rows:
    want = full[row_task == r["source_task"], cols.index(r["target_task"])].sum()
    scale = np.abs(full[:, cols.index(r["target_task"])]).sum()
    assert abs(float(r["loss_change_if_removed"]) - want) <= 1e-10 * scale, (r, want)
top = list(csv.DictReader(open(sys.argv[4])))
assert len(top) == 2 * 7 * len(cols)
for r in top:
    c = full[:, cols.index(r["target_task"])]
    order = np.lexsort((np.arange(len(c)), -c if r["kind"] == "helpful" else c))
    want_row = order[int(r["rank"]) - 1]
    assert int(r["train_row"]) == want_row, (r, want_row)
    assert r["train_task"] == row_task[want_row]
    assert abs(float(r["loss_change_if_removed"]) - c[want_row]) <= 1e-10 * np.abs(c).max()
PY
done

# Bad --memory values: exit non-zero, one line on stderr naming the flag, no output.
for bad in abc 0 -5M 10X 2GG "" 1K; do
  rc=0
  "$MTIF" influence --train "$D/train.csv" --test "$D/test.csv" --memory "$bad" --out "$WORK/bad.npy" \
    2>"$WORK/err.txt" >/dev/null || rc=$?
  [ "$rc" -ne 0 ] || fail "--memory '$bad' accepted"
  [ "$(wc -l <"$WORK/err.txt")" -eq 1 ] || fail "--memory '$bad': not one line: $(cat "$WORK/err.txt")"
  grep -q -- "--memory" "$WORK/err.txt" || fail "--memory '$bad': message does not name the flag: $(cat "$WORK/err.txt")"
  [ ! -e "$WORK/bad.npy" ] && [ ! -e "$WORK/bad.npy.partial" ] || fail "--memory '$bad' left an output"
done
# What does not stream is refused, not silently run in memory.
for args in "--loss logistic" "--mode exact" "--reduce topk:0" "--reduce median"; do
  if "$MTIF" influence --train "$D/train.csv" --test "$D/test.csv" --memory 1M $args --out "$WORK/bad.npy" \
    2>/dev/null >/dev/null; then fail "--memory with $args accepted"; fi
done

# The budget holds: peak RSS of a streamed run over 8.6 MB of CSV with --memory 8M stays below
# 8 MiB + what the program takes before reading anything (binary, libraries: a refused run).
if [ -x /usr/bin/time ]; then
  "$MTIF" generate --tasks 4 --features 20 --rows 5000 --test-rows 50 --seed 3 --out-dir "$WORK/big" -q
  /usr/bin/time -f "%M" -o "$WORK/rss-base.txt" "$MTIF" influence --train "$WORK/big/train.csv" \
    --test "$WORK/big/test.csv" --memory 0 --out "$WORK/big/x.npy" 2>/dev/null && fail "--memory 0 accepted"
  /usr/bin/time -f "%M" -o "$WORK/rss-8M.txt" "$MTIF" influence --train "$WORK/big/train.csv" \
    --test "$WORK/big/test.csv" --memory 8M --out "$WORK/big/s.npy" --json "$WORK/big/s.json" -q
  base=$(tail -n 1 "$WORK/rss-base.txt"); used=$(tail -n 1 "$WORK/rss-8M.txt")
  # Under AddressSanitizer freed blocks sit in a quarantine and every allocation has shadow
  # memory, so RSS says nothing about our buffers there; the bound is checked in the Release suite.
  if [ "${MTIF_SANITIZED:-0}" = 1 ]; then
    echo "RSS bound not checked under the sanitizer build (peak $used kB, base $base kB)"
  else
    [ $((used - base)) -lt 8192 ] || fail "--memory 8M: peak RSS $used kB is $((used - base)) kB above the program's $base kB"
  fi
  "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['train_rows'] > 2 * d['chunk_rows_pass2']" \
    "$WORK/big/s.json" || fail "--memory 8M read the 20,000 rows in one chunk"
fi

# MPI: 2 ranks, each reading its own rows, give the one-process streamed scores.
if [ -n "$MPIRUN" ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  for src in npy csv; do
    data=(--train "$D/train.csv" --test "$D/test.csv")
    [ $src = npy ] && data=(--train-npy "$WORK/train" --test-npy "$WORK/test")
    "$MPIRUN" --oversubscribe -np 2 "$MTIF" influence "${data[@]}" --memory 48K --out "$WORK/mpi-$src.npy" \
      --json "$WORK/mpi-$src.json" -q
    check_stream "$WORK/full-tasks.npy" "$WORK/mpi-$src.npy" "$WORK/mpi-$src.json"
    "$MPIRUN" --oversubscribe -np 2 "$MTIF" influence "${data[@]}" --memory 48K --reduce topk:7 --out "$WORK/mpi-top-$src.csv" -q
    cmp -s "$WORK/mpi-top-$src.csv" "$WORK/top-$src.csv" || \
      "$PY" "$HERE/compare_scores.py" "$WORK/top-$src.csv" "$WORK/mpi-top-$src.csv" 1e-12 >/dev/null || fail "MPI top-k differs"
  done
fi
echo "streaming: ok"
