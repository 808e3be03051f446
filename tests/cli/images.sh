#!/usr/bin/env bash
# images.sh MTIF WORK: `mtif images` without the fetched files says what to
# run, in one line, with exit 2 and no output. (The casts themselves are
# tested on generated images in tests/io/image_data_test.cpp.)
source "$(dirname "$0")/lib.sh"
rc=0
"$MTIF" images --data-dir "$WORK/missing" --out-dir "$WORK/out" 2>"$WORK/err.txt" || rc=$?
[ $rc -eq 2 ] || fail "exit $rc (expected 2)"
[ "$(wc -l <"$WORK/err.txt")" -eq 1 ] || fail "expected one line: $(cat "$WORK/err.txt")"
grep -q "scripts/fetch_data.sh" "$WORK/err.txt" || fail "the message does not say how to fetch: $(cat "$WORK/err.txt")"
[ ! -e "$WORK/out/train.csv" ] || fail "train.csv written although the run failed"
echo "ok: images"
