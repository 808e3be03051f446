#!/usr/bin/env bash
# images.sh MTIF WORK: `mtif images` without the fetched files says what to
# run, in one line, with exit 2 and no output; on the real files (DATA_DIR,
# fetched by scripts/fetch_data.sh --images; exit 77 = skipped without them)
# --valid-fraction writes a valid.csv that shares no image with train.csv or
# test.csv, reproducibly. (The casts themselves are tested on generated images
# in tests/io/image_data_test.cpp.)
source "$(dirname "$0")/lib.sh"
rc=0
"$MTIF" images --data-dir "$WORK/missing" --out-dir "$WORK/out" 2>"$WORK/err.txt" || rc=$?
[ $rc -eq 2 ] || fail "exit $rc (expected 2)"
[ "$(wc -l <"$WORK/err.txt")" -eq 1 ] || fail "expected one line: $(cat "$WORK/err.txt")"
grep -q "scripts/fetch_data.sh" "$WORK/err.txt" || fail "the message does not say how to fetch: $(cat "$WORK/err.txt")"
[ ! -e "$WORK/out/train.csv" ] || fail "train.csv written although the run failed"

DATA="${3:-}"
if [ ! -e "$DATA/fashion-mnist/train-images-idx3-ubyte.gz" ] || [ ! -e "$DATA/mnist-digits/0.json" ]; then
  echo "skipped: no fetched images in '$DATA' (scripts/fetch_data.sh --images)"
  exit 77
fi
for source in fashion-mnist mnist-digits; do
  args=(images --source "$source" --data-dir "$DATA/$source" --pool 4 --train-pos 20 --train-neg 20 --test-pos 10
        --test-neg 10 --valid-fraction 0.3 --valid-pos 15 --valid-neg 15 --seed 3 -q)
  "$MTIF" "${args[@]}" --out-dir "$WORK/$source" || fail "$source: images --valid-fraction failed"
  "$MTIF" "${args[@]}" --out-dir "$WORK/$source-again" || fail "$source: second run failed"
  for f in train valid test; do
    cmp -s "$WORK/$source/$f.csv" "$WORK/$source-again/$f.csv" || fail "$source: $f.csv differs between two runs"
  done
  # Rows per split (10 tasks; header + rows), and no pixel vector of valid in train or test.
  [ "$(wc -l <"$WORK/$source/valid.csv")" -eq 301 ] || fail "$source: valid.csv has $(wc -l <"$WORK/$source/valid.csv") lines"
  [ "$(wc -l <"$WORK/$source/train.csv")" -eq 401 ] || fail "$source: train.csv has $(wc -l <"$WORK/$source/train.csv") lines"
  pixels() { tail -n +2 "$1" | cut -d, -f3- | sort -u; }
  pixels "$WORK/$source/valid.csv" >"$WORK/v.txt"
  [ "$(wc -l <"$WORK/v.txt")" -gt 250 ] || fail "$source: valid.csv holds few distinct images"
  for f in train test; do
    pixels "$WORK/$source/$f.csv" >"$WORK/o.txt"
    shared=$(comm -12 "$WORK/v.txt" "$WORK/o.txt" | wc -l)
    [ "$shared" -eq 0 ] || fail "$source: valid.csv shares $shared images with $f.csv"
  done
done
# Without --valid-fraction no valid.csv is written.
"$MTIF" images --data-dir "$DATA/fashion-mnist" --pool 4 --train-pos 5 --train-neg 5 --test-pos 5 --test-neg 5 \
  --out-dir "$WORK/plain" -q || fail "plain cast failed"
[ ! -e "$WORK/plain/valid.csv" ] || fail "valid.csv written without --valid-fraction"
echo "ok: images"
