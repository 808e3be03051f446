#!/usr/bin/env bash
# progress.sh MTIF WORK: a progress bar on a terminal, nothing in a pipe.
#  - stderr is a file: no bar (no carriage return, no "ETA"); --quiet prints nothing at all;
#  - stderr is a terminal (util-linux `script` gives the run a pseudo-terminal):
#    the refits of `mtif loo` draw a bar that ends at 100%;
#  - --verbose prints the resolved settings and timings.
source "$(dirname "$0")/lib.sh"
set -e
D="$WORK/data"
"$MTIF" generate --tasks 4 --features 5 --rows 100 --test-rows 20 --seed 5 --out-dir "$D" -q
run=(loo --train "$D/train.csv" --test "$D/test.csv" --rows all --out "$WORK/loo.csv")

MTIF_PROGRESS_DELAY=0 "$MTIF" "${run[@]}" >"$WORK/out.txt" 2>"$WORK/err.txt"
! grep -q $'\r' "$WORK/err.txt" || fail "a carriage return (a bar) went to a non-terminal stderr"
! grep -q "ETA" "$WORK/err.txt" || fail "a bar went to a non-terminal stderr"
"$MTIF" "${run[@]}" -q >"$WORK/out.txt" 2>"$WORK/err.txt"
[ ! -s "$WORK/err.txt" ] || fail "--quiet printed on stderr: $(cat "$WORK/err.txt")"
[ ! -s "$WORK/out.txt" ] || fail "--quiet printed on stdout: $(cat "$WORK/out.txt")"

"$MTIF" "${run[@]}" -v --json "$WORK/loo.json" >/dev/null 2>"$WORK/err.txt"
grep -q '"command": "loo"' "$WORK/err.txt" || fail "--verbose did not print the settings: $(cat "$WORK/err.txt")"
grep -q 'timings (s)' "$WORK/err.txt" || fail "--verbose did not print the timings"

if command -v script >/dev/null 2>&1; then
  # script(1) runs the command on a pseudo-terminal and copies what it prints to the log.
  # MTIF_PROGRESS_DELAY=0: draw from the first refit, however fast the machine.
  MTIF_PROGRESS_DELAY=0 script -qefc "$(printf '%q ' "$MTIF" "${run[@]}") >/dev/null" "$WORK/tty.log" >/dev/null
  grep -q "leave-one-out refits \[" "$WORK/tty.log" || fail "no bar on a terminal: $(cat -v "$WORK/tty.log" | head -5)"
  grep -q "100% 400/400 in " "$WORK/tty.log" || fail "the bar did not finish: $(cat -v "$WORK/tty.log" | tail -3)"
  MTIF_PROGRESS_DELAY=0 script -qefc "$(printf '%q ' "$MTIF" "${run[@]}" -q) >/dev/null" "$WORK/tty-quiet.log" >/dev/null
  ! grep -q "refits \[" "$WORK/tty-quiet.log" || fail "--quiet drew a bar on a terminal"
else
  echo "note: util-linux 'script' missing: terminal half skipped"
fi
echo "ok: progress"
