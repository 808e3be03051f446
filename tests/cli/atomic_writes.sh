#!/usr/bin/env bash
# atomic_writes.sh MTIF WORK: an interrupted or failed write leaves the old
# file (or none), never half of one, and no temporary (src/io/atomic_file.cpp).
# (a) SIGTERM and SIGINT reach `mtif influence` while it writes a ~100 MB CSV;
# (b) the disk fills up: a 64 KiB tmpfs where mount works (root), otherwise a
#     file size limit (ulimit -f, SIGXFSZ ignored). The test says which it used.
source "$(dirname "$0")/lib.sh"
set -e
set -m  # job control: a background job keeps SIGINT (a plain script would ignore it there)
D="$WORK/data"
"$MTIF" generate --tasks 40 --features 10 --rows 1000 --test-rows 10 --seed 3 --out-dir "$D" -q
"$MTIF" generate --tasks 2 --features 3 --rows 10 --test-rows 5 --seed 4 --out-dir "$D/small" -q
data=(--train "$D/train.csv" --test "$D/test.csv")

# interrupt SIGNAL TARGET: starts the large write to TARGET, waits until its
# temporary holds data (mid-write), sends SIGNAL, and checks how mtif ended.
interrupt() {
  local sig="$1" target="$2" rc=0 i temp=""
  "$MTIF" influence "${data[@]}" --out "$target" -q 2>"$WORK/stderr.txt" &
  local pid=$!
  for i in $(seq 1 2000); do
    temp=$(find "$WORK" -name "$(basename "$target").tmp-*" -size +64k | head -n 1)
    [ -n "$temp" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.005
  done
  [ -n "$temp" ] || fail "$sig: no temporary file seen being written (did the run end first?)"
  kill -s "$sig" "$pid"
  wait "$pid" || rc=$?
  local want=$((128 + $(kill -l "$sig")))
  [ "$rc" -eq "$want" ] || fail "$sig: exit status $rc, expected $want (killed by the signal)"
  [ -z "$(leftovers "$WORK")" ] || fail "$sig: temporary files left: $(leftovers "$WORK")"
}

# SIGTERM with an old complete file in place: it stays, byte for byte.
"$MTIF" influence --train "$D/small/train.csv" --test "$D/small/test.csv" --out "$WORK/old.csv" -q
old_sum=$(md5sum <"$WORK/old.csv")
interrupt TERM "$WORK/old.csv"
[ "$(md5sum <"$WORK/old.csv")" = "$old_sum" ] || fail "TERM: the old file was changed"
# SIGINT with no file there: none appears.
interrupt INT "$WORK/new.csv"
[ ! -e "$WORK/new.csv" ] || fail "INT: a partial new.csv was left"

# (b) a full disk.
FULL="$WORK/full"
mkdir -p "$FULL"
how="file size limit (ulimit -f 64, SIGXFSZ ignored)"
if [ "$(id -u)" -eq 0 ] && mount -t tmpfs -o size=64k tmpfs "$FULL" 2>/dev/null; then
  how="64 KiB tmpfs"
  trap 'umount "$FULL" 2>/dev/null || true' EXIT
fi
echo "full disk by: $how"
"$MTIF" influence --train "$D/small/train.csv" --test "$D/small/test.csv" --out "$FULL/scores.csv" -q
old_sum=$(md5sum <"$FULL/scores.csv")
rc=0
if [ "$how" = "64 KiB tmpfs" ]; then
  "$MTIF" influence "${data[@]}" --out "$FULL/scores.csv" -q 2>"$WORK/stderr.txt" || rc=$?
else
  (trap '' XFSZ; ulimit -f 64; "$MTIF" influence "${data[@]}" --out "$FULL/scores.csv" -q) 2>"$WORK/stderr.txt" || rc=$?
fi
[ "$rc" -ne 0 ] || fail "writing to a full disk succeeded"
[ "$(wc -l <"$WORK/stderr.txt")" -eq 1 ] || fail "expected one line on stderr: $(cat "$WORK/stderr.txt")"
grep -qF "$FULL/scores.csv" "$WORK/stderr.txt" || fail "the error does not name the file: $(cat "$WORK/stderr.txt")"
grep -qiE "no space|too large" "$WORK/stderr.txt" || fail "the error does not say why: $(cat "$WORK/stderr.txt")"
[ "$(md5sum <"$FULL/scores.csv")" = "$old_sum" ] || fail "full disk: the old file was changed"
[ -z "$(leftovers "$FULL")" ] || fail "full disk: temporary files left: $(leftovers "$FULL")"
echo "ok: signals and a full disk ($how) leave the old file or none, and no temporary"
