#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) into build-fuzz/ and
# runs each for a bounded time on a seed corpus written here (nothing committed):
#   csv_reader_fuzz   the CSV reader
#   npy_reader_fuzz   the .npy reader (one array and a data set folder)
#   json_files_fuzz   JSON run files (--config, mtif run) and linear model files
#   scripts/fuzz.sh [SECONDS [TARGET...]]   (default 60 s each, all three)
# RUNS=N runs each target for N executions instead of a time (bench/fuzz.sh).
# Exits non-zero when a fuzzer finds a crash, a sanitizer report or a broken
# invariant; the reproducer is left in build-fuzz/artifacts/TARGET/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(csv_reader_fuzz npy_reader_fuzz json_files_fuzz)
build="${FUZZ_BUILD:-build-fuzz}"  # FUZZ_BUILD: another build folder (bench/fuzz.sh)
jobs="$(nproc 2>/dev/null || echo 2)"

CC="${CC:-clang}" CXX="${CXX:-clang++}" cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMTIF_BUILD_FUZZ=ON -DMTIF_BUILD_TESTS=OFF -DMTIF_BUILD_BENCH=OFF -DMTIF_WITH_TORCH=OFF -DMTIF_WITH_REPORT=OFF -DMTIF_NATIVE=OFF >/dev/null
cmake --build "$build" --target "${targets[@]}" -j"$jobs"

corpus="$build/corpus/csv_reader_fuzz"
mkdir -p "$corpus"

# Seed corpus: valid files and near misses of every kind the reader refuses.
seed() { printf '%b' "$2" >"$corpus/seed-$1.csv"; }
seed valid        'task,y,a,b\nt1,1.5,2,3\nt2,-4,5e-1,6\nt10,0,7,8\n'
seed split        'task,y,a,split\nt1,1,2,train\nt2,3,4,train\nt1,5,6,test\nt2,7,8,test\n'
seed quoted       'task,y,a,b\n"x, y",1,2,3\n"say ""hi""",3,4,5\n'
seed crlf         'task,y,a,b\r\nt,1,2,3\r\n\r\nt,+4, 5 ,\t6\r\n'
seed bom          '\xef\xbb\xbftask,y,a\nt,1,2\n'
seed features     'task,y,a,b,c\nt,1,2,3,4\n'
seed blank        'task,y,a\n\n   \nt,1,2\n\n'
seed nan          'task,y,a\nt,nan,-inf\nt,Infinity,1e999\n'
seed ragged       'task,y,a,b\nt,1,2\nt,1,2,3,4\n'
seed dup          'task,y,a,a\nt,1,2,3\n'
seed unclosed     'task,y,a\n"t,1,2\n'
seed badsplit     'task,y,a,split\nt,1,2,valid\nu,1,2,test\n'
seed nul          'task,y,a\nt,1,2\x00\n'
seed headeronly   'task,y,a\n'
seed empty        ''
seed natural      'task,y,a\ntask10,1,1\ntask2,1,1\n007,1,1\n7,1,1\na09,1,1\na9,1,1\n'

# Tokens the reader treats specially, so mutations reach them sooner.
cat >"$build/csv.dict" <<'DICT'
"task"
"y"
"split"
"train"
"test"
"a"
"b"
","
"\x22"
"\x22\x22"
"\x0d\x0a"
"\x0a"
"\xef\xbb\xbf"
"nan"
"-inf"
"Infinity"
"1e308"
"1e-400"
"+"
"-"
"task10"
"007"
DICT

# .npy seeds: valid arrays of each element type and shape the reader takes, and near misses.
mkdir -p "$build/corpus/npy_reader_fuzz"
/usr/bin/python3 - "$build/corpus/npy_reader_fuzz" <<'PY'
import struct, sys
def npy(name, descr, shape, data, version=1, header_extra=""):
    h = "{'descr': '%s', 'fortran_order': False, 'shape': %s, %s}" % (descr, shape, header_extra)
    head_len = 4 if version > 1 else 2
    pad = (64 - (6 + 2 + head_len + len(h) + 1) % 64) % 64
    h = h + " " * pad + "\n"
    length = struct.pack("<I" if version > 1 else "<H", len(h))
    open(f"{sys.argv[1]}/seed-{name}.npy", "wb").write(b"\x93NUMPY" + bytes([version, 0]) + length + h.encode("latin1") + data)
npy("f8_2d", "<f8", "(2, 3)", struct.pack("<6d", 1, 2, 3, 4, 5, 6))
npy("f4_2d", "<f4", "(3, 1)", struct.pack("<3f", 1.5, -2, 0))
npy("i8_1d", "<i8", "(4,)", struct.pack("<4q", 0, 1, 1, 0))
npy("i4_1d", "<i4", "(2,)", struct.pack("<2i", 1, 0))
npy("u1_1d", "|u1", "(3,)", bytes([0, 1, 2]))
npy("v2", "<f8", "(1,)", struct.pack("<d", 7), version=2)
npy("v3", "<i2", "(2,)", struct.pack("<2h", 0, 1), version=3)
npy("big_endian", ">f8", "(1,)", struct.pack(">d", 1))
npy("nan", "<f8", "(2,)", struct.pack("<2d", float("nan"), float("inf")))
npy("short", "<f8", "(3,)", struct.pack("<2d", 1, 2))
npy("empty", "<f8", "(0,)", b"")
# A whole data set folder: X.npy, y.npy, task.npy, tasks.txt cut by the separator the target splits at.
def part(descr, shape, data):
    h = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    h = h + " " * ((64 - (10 + len(h) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode("latin1") + data
sep = b"\n@next-file@\n"
open(f"{sys.argv[1]}/seed-folder.npy", "wb").write(sep.join([
    part("<f8", "(3, 2)", struct.pack("<6d", 1, 2, 3, 4, 5, 6)), part("<f4", "(3,)", struct.pack("<3f", 1, 0, 1)),
    part("<i8", "(3,)", struct.pack("<3q", 1, 0, 1)), b"alpha\nbeta\n"]))
PY
cat >"$build/npy.dict" <<'DICT'
"\x93NUMPY"
"'descr'"
"'fortran_order'"
"'shape'"
"False"
"True"
"<f8"
"<f4"
"<i8"
"|u1"
">f8"
"<U1"
"(1, 2)"
"(0,)"
"\x0a@next-file@\x0a"
DICT
# JSON seeds: a run file, a --json summary holding one under "config", and a linear model file.
mkdir -p "$build/corpus/json_files_fuzz"
j="$build/corpus/json_files_fuzz"
printf '%s' '{"command": "influence", "train": "train.csv", "test": "test.csv", "lambda-task": 0.5, "mode": "exact", "hidden": [32, 16], "quiet": true, "verbose": false}' >"$j/seed-run.json"
printf '%s' '{"command": "influence", "config": {"command": "influence", "out": "s.csv", "lambda-shared": 1e-3}, "timings": {}}' >"$j/seed-summary.json"
printf '%s' '{"command": "fit", "train": "t.csv"}' >"$j/seed-other-command.json"
printf '%s' '{"format": "mtif-linear-model", "loss": "squared", "lambda_task": 1.0, "lambda_shared": 0.5, "intercept": false, "features": ["a", "b"], "tasks": ["t1", "t2"], "gamma": [0.1, -2], "theta": [[1, 2], [3, 4e-300]], "fit": {"iterations": 2, "objective": 1.5, "gradient_max_abs": 1e-12, "converged": true}}' >"$j/seed-model.json"
printf '%s' '{"format": "mtif-linear-model", "loss": "logistic", "lambda_task": 1, "lambda_shared": 1, "intercept": true, "features": ["x"], "tasks": ["a"], "gamma": [1e308], "theta": [[-1e308]]}' >"$j/seed-model-logistic.json"
printf '%s' '[1, 2, {"a": null}]' >"$j/seed-array.json"
cat >"$build/json.dict" <<'DICT'
"\"command\""
"\"config\""
"\"format\""
"\"mtif-linear-model\""
"\"theta\""
"\"gamma\""
"\"features\""
"\"tasks\""
"\"loss\""
"null"
"true"
"false"
"1e999"
"-0"
"[]"
"{}"
DICT

# -max_len keeps inputs small enough for many executions per second.
# A time limit (SECONDS) or, with RUNS set, a number of executions per target.
limit=(-max_total_time="$seconds")
[ -n "${RUNS:-}" ] && limit=(-runs="$RUNS")
failed=0
for target in "${targets[@]}"; do
  case "$target" in
    csv_reader_fuzz) dict="$build/csv.dict" ;;
    npy_reader_fuzz) dict="$build/npy.dict" ;;
    json_files_fuzz) dict="$build/json.dict" ;;
    *) echo "fuzz: unknown target $target" >&2; exit 2 ;;
  esac
  artifacts="$build/artifacts/$target"
  mkdir -p "$artifacts"
  log="$build/$target.log"
  set +e
  start=$(date +%s.%N)
  "$build/fuzz/$target" "$build/corpus/$target" -dict="$dict" "${limit[@]}" -max_len=4096 \
    -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1
  status=$?
  end=$(date +%s.%N)
  grep -vE '^#[0-9]+|^"|^###|^INFO: (Loaded|Running with|-max_len|A corpus)' "$log" | tail -n 20
  set -e
  execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)"
  secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
  echo "fuzz: $target: ${execs:-?} executions in $secs s, exit status $status"
  if [ "$status" -ne 0 ]; then
    echo "fuzz: $target FAILED, reproducer(s) in $artifacts/:" >&2
    ls -l "$artifacts" >&2 || true
    failed=1
  fi
done
exit "$failed"
