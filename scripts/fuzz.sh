#!/usr/bin/env bash
# Builds the libFuzzer target for the CSV reader with clang into build-fuzz/ and
# runs it for a bounded time on a seed corpus written here (nothing committed).
#   scripts/fuzz.sh [SECONDS]   (default 60)
# Exits non-zero when the fuzzer finds a crash, a sanitizer report or a broken
# invariant; the reproducer is left in build-fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
build=build-fuzz
jobs="$(nproc 2>/dev/null || echo 2)"

CC="${CC:-clang}" CXX="${CXX:-clang++}" cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMTIF_BUILD_FUZZ=ON -DMTIF_BUILD_TESTS=OFF -DMTIF_BUILD_BENCH=OFF -DMTIF_WITH_TORCH=OFF -DMTIF_NATIVE=OFF >/dev/null
cmake --build "$build" --target csv_reader_fuzz -j"$jobs"

corpus="$build/corpus"
artifacts="$build/artifacts"
mkdir -p "$corpus" "$artifacts"

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

# -max_len keeps inputs small enough for many executions per second.
set +e
"$build/fuzz/csv_reader_fuzz" "$corpus" -dict="$build/csv.dict" -max_total_time="$seconds" -max_len=4096 \
  -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$artifacts/" -print_final_stats=1 >"$build/fuzz.log" 2>&1
status=$?
grep -vE '^#[0-9]+|^"|^###|^INFO: (Loaded|Running with|-max_len|A corpus)' "$build/fuzz.log" | tail -n 60
set -e
execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$build/fuzz.log" | grep -o '[0-9]*$' || true)"
echo "fuzz: ${execs:-?} executions in ${seconds} s, exit status ${status}"
if [ "$status" -ne 0 ]; then
  echo "fuzz: FAILED, reproducer(s) in $artifacts/:" >&2
  ls -l "$artifacts" >&2 || true
  exit 1
fi
