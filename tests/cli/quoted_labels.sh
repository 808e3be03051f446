#!/usr/bin/env bash
# quoted_labels.sh MTIF WORK: task labels that need CSV quoting (a comma, a
# double quote) are read from quoted fields and must be written quoted again,
# so every output line still has the header's number of fields.
source "$(dirname "$0")/lib.sh"
set -e
put "$WORK/train.csv" 'task,y,a\n"x, y",1,2\n"x, y",2,1\n"say ""hi""",3,4\n"say ""hi""",1,1\n'
"$MTIF" influence --train "$WORK/train.csv" --test "$WORK/train.csv" --out "$WORK/scores.csv" -q
"$MTIF" loo --train "$WORK/train.csv" --test "$WORK/train.csv" --rows all --out "$WORK/loo.csv" -q
"$MTIF" relatedness --train "$WORK/train.csv" --test "$WORK/train.csv" --out "$WORK/R.csv" -q
python3 - "$WORK" <<'PY' || fail "task labels are not quoted in the outputs"
import csv, os, sys
for name, label_cols in (("scores.csv", (1, 2)), ("loo.csv", (1, 2)), ("R.csv", (0, 1))):
    rows = list(csv.reader(open(os.path.join(sys.argv[1], name))))
    width = len(rows[0])
    assert len(rows) > 1, name
    for r in rows[1:]:
        assert len(r) == width, (name, r)
        for c in label_cols:
            assert r[c] in ('x, y', 'say "hi"'), (name, r)
PY
echo "ok: quoted labels"
