# Helpers for the command-line tests (sourced by the *.sh tests here).
# Each test is called as: TEST.sh MTIF_BINARY WORK_DIR [ARGS...]
set -u

MTIF="$1"
WORK="$2"
rm -rf "$WORK"
mkdir -p "$WORK"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# put FILE TEXT: writes TEXT (printf %b escapes: \n, \r, \x00) to FILE.
put() { printf '%b' "$2" >"$1"; }

# first_line FILE
first_line() { head -n 1 "$1" | tr -d '\r'; }

# leftovers DIR: temporary files an interrupted write would leave.
leftovers() { find "$1" -name '*.tmp-*' | head -n 5; }

# expect_refused PREFIX NEEDLE OUT_PATH -- COMMAND...
# The run must exit with 2, print exactly one line on stderr that holds
# PREFIX ("file:line:col:") and NEEDLE (the column name), write nothing to
# OUT_PATH (nor OUT_PATH.json) and leave no temporary file behind.
expect_refused() {
  local prefix="$1" needle="$2" out="$3"
  shift 4
  local err="$WORK/stderr.txt" rc=0
  "$@" >"$WORK/stdout.txt" 2>"$err" || rc=$?
  [ "$rc" -eq 2 ] || fail "exit code $rc (expected 2) for: $* ; stderr: $(cat "$err")"
  local lines
  lines=$(wc -l <"$err")
  [ "$lines" -eq 1 ] || fail "$lines lines on stderr (expected 1) for: $* ; stderr: $(cat "$err")"
  grep -qF -- "$prefix" "$err" || fail "stderr lacks '$prefix': $(cat "$err")"
  grep -qF -- "$needle" "$err" || fail "stderr lacks '$needle': $(cat "$err")"
  [ ! -e "$out" ] || fail "$out was written although the run failed"
  [ ! -e "$out.json" ] || fail "$out.json was written although the run failed"
  [ -z "$(leftovers "$WORK")" ] || fail "temporary files left: $(leftovers "$WORK")"
}
