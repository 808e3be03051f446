#!/usr/bin/env bash
# report.sh MTIF WORK [page]: `mtif report`.
# Always: bad input is refused with one stderr line, a non-zero exit and no
# output file. With "page" (needs node, report/node_modules and chromium):
# two run directories are rendered in headless Chromium by report_page.mjs,
# which fails on any page/console error, a missing chart or missing text.
#   1. what `mtif demo` writes;
#   2. outputs of influence / loo / relatedness with their --json summaries,
#      a task label full of markup ("</script>", "<img onerror>", "&amp;"),
#      images.npy (thumbnails) and a selection summary.
source "$(dirname "$0")/lib.sh"
HERE="$(cd "$(dirname "$0")" && pwd)"

# expect_report_refused NEEDLE OUT -- ARGS...: non-zero exit, one stderr line holding NEEDLE, no OUT.
expect_report_refused() {
  local needle="$1" out="$2"
  shift 3
  local rc=0
  "$MTIF" report "$@" >"$WORK/stdout.txt" 2>"$WORK/stderr.txt" || rc=$?
  [ "$rc" -ne 0 ] || fail "mtif report $* succeeded"
  [ "$(wc -l <"$WORK/stderr.txt")" -eq 1 ] || fail "not one line on stderr for mtif report $*: $(cat "$WORK/stderr.txt")"
  grep -qF -- "$needle" "$WORK/stderr.txt" || fail "stderr lacks '$needle': $(cat "$WORK/stderr.txt")"
  [ ! -e "$out" ] || fail "$out was written although mtif report $* failed"
  [ -z "$(leftovers "$WORK")" ] || fail "temporary files left: $(leftovers "$WORK")"
}

expect_report_refused "$WORK/no-such-dir" "$WORK/r.html" -- --from "$WORK/no-such-dir" --out "$WORK/r.html"
mkdir -p "$WORK/empty"
expect_report_refused "nothing to report" "$WORK/r.html" -- --from "$WORK/empty" --out "$WORK/r.html"
echo '{"not": "a summary"}' >"$WORK/empty/x.json"
expect_report_refused "not an mtif summary" "$WORK/r.html" -- --from "$WORK/empty/x.json" --out "$WORK/r.html"
expect_report_refused "no such file" "$WORK/r.html" -- --from "$WORK/empty/missing.json" --out "$WORK/r.html"

[ "${3:-}" = "page" ] || exit 0
CHECK=(node "$HERE/report_page.mjs")

# 1. The demo's run directory.
D="$WORK/demo"
"$MTIF" demo --out-dir "$D" >"$WORK/demo.txt" || fail "mtif demo failed"
"$MTIF" report --from "$D" --out "$D/report.html" >"$WORK/report1.txt" || fail "mtif report --from $D failed"
"${CHECK[@]}" "$D/report.html" "$WORK/demo.png" heatmap-0,heatmap-1,heatmap-2,loo-0,loto-0,loto-1 \
  --text "MTIF (first-order, sum of row scores)" --text "Retraining without each task" \
  --text "Target task5" --text "seed" --text "absent: Data selection" \
  --selector '.task-card=6' --selector '.task-card table tbody tr=120' --selector 'canvas.thumb=0' \
  --sections "$WORK" || fail "the demo's report page failed the browser check"

# 2. A directory of subcommand outputs, with a hostile task label.
R="$WORK/run"
mkdir -p "$R"
BAD='t5</script><img src=x onerror=alert(1)>&amp;'
for f in train test; do
  python3 -c 'import sys; sys.stdout.write(open(sys.argv[1]).read().replace("\ntask5,", "\n" + sys.argv[2] + ","))' \
    "$D/$f.csv" "$BAD" >"$R/$f.csv"
done
grep -qF "$BAD" "$R/train.csv" || fail "could not plant the hostile label"
args=(--train "$R/train.csv" --test "$R/test.csv" --quiet)
"$MTIF" influence "${args[@]}" --out "$R/scores.csv" --json "$R/influence.json" || fail "influence failed"
"$MTIF" loo "${args[@]}" --rows 0-39 --out "$R/loo.csv" --json "$R/loo.json" || fail "loo failed"
"$MTIF" relatedness "${args[@]}" --method newton --out "$R/R_newton.csv" --json "$R/R_newton.json" || fail "relatedness failed"
"$MTIF" relatedness "${args[@]}" --method retrain --out "$R/R_retrain.csv" --json "$R/R_retrain.json" || fail "relatedness failed"
"$MTIF" relatedness "${args[@]}" --method mtif --out "$R/R_mtif.csv" || fail "relatedness failed"  # no summary: read from the CSV
"$MTIF" group "${args[@]}" --method newton --groups 2,3 --out "$WORK/groups.csv" --json "$R/groups.json" 2>/dev/null \
  || fail "group failed"
# 720 training rows of 4 x 4 images, pixel (i, j) of row r = ((r + i + j) mod 8) / 7.
python3 - "$R" <<'PY' || fail "could not write images.npy"
import struct, sys
header = "{'descr': '<f8', 'fortran_order': False, 'shape': (720, 16), }"
header += " " * (63 - (10 + len(header)) % 64) + "\n"  # .npy v1: header padded to a multiple of 64
values = [((r + i + j) % 8) / 7.0 for r in range(720) for i in range(4) for j in range(4)]
with open(sys.argv[1] + "/images.npy", "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
    f.write(struct.pack("<%dd" % len(values), *values))
PY
# A selection summary in the schema of report/README.md.
cat >"$R/selection.json" <<'JSON'
{"command": "select", "settings": {"budget": 0.05}, "seed": 3, "budget": 0.05, "target_task": null,
 "full_data": {"test_loss": 0.52},
 "methods": [{"method": "mtif", "rows_selected": 36, "valid_loss": 0.47, "test_loss": 0.48},
             {"method": "random", "rows_selected": 36, "valid_loss": 0.53, "test_loss": 0.53},
             {"method": "loss", "rows_selected": 36, "valid_loss": 0.5, "test_loss": 0.51}]}
JSON
"$MTIF" report --from "$R" --out "$R/report.html" --top 5 >"$WORK/report2.txt" || fail "mtif report --from $R failed"
grep -qF "$BAD" "$R/report.html" && fail "the hostile label reached the HTML unescaped"
"${CHECK[@]}" "$R/report.html" "$WORK/run.png" heatmap-0,heatmap-1,heatmap-2,loo-0,loto-0,loto-1,selection-bar,groups-bar-0 \
  --text "Target $BAD" --text "groups.json: affinity newton" --text "one model per task" --text "Newton leave-one-task-out" --text "Relatedness from R_mtif.csv" \
  --text "LOTO R_mtif.csv" --text "Retraining without each task" \
  --text "mtif influence" --text "mtif loo" --text "random" \
  --selector 'img=0' --selector 'canvas.thumb=60' --selector '.task-card=6' \
  || fail "the subcommands' report page failed the browser check"
echo "ok: screenshots in $WORK"
