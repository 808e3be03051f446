"""Checks the files round_trip.sh made, in one Python start (each costs ~0.3 s).

    python3 check_outputs.py WORK NTRAIN K
"""
import ast
import collections
import csv
import glob
import json
import os
import struct
import sys

work, n, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
p = lambda name: os.path.join(work, name)


def close(u, v):
    return abs(u - v) <= 1e-9 * max(1.0, abs(u))


# Every --json summary and sidecar parses as JSON.
summaries = sorted(glob.glob(p("*.json")))
assert len(summaries) >= 6, summaries
for path in summaries:
    with open(path) as f:
        json.load(f)

# influence, tasks as targets: one line per (train_row, task); parts add up.
rows = list(csv.DictReader(open(p("scores.csv"))))
assert len(rows) == n * k, (len(rows), n * k)
per_row = collections.Counter(int(r["train_row"]) for r in rows)
assert sorted(per_row) == list(range(n)) and set(per_row.values()) == {k}, per_row
assert len({r["target_task"] for r in rows}) == k
for r in rows:
    total, a, b = (float(r[c]) for c in ("loss_change_if_removed", "task_part", "shared_part"))
    assert close(total, a + b), r

# .npy: version 1, float64, C order, shape (train rows, targets), same numbers as the CSV.
data = open(p("scores.npy"), "rb").read()
assert data[:6] == b"\x93NUMPY" and data[6] == 1, data[:8]
hlen = struct.unpack("<H", data[8:10])[0]
header = ast.literal_eval(data[10:10 + hlen].decode("latin1"))
assert header["descr"] == "<f8" and header["fortran_order"] is False, header
assert tuple(header["shape"]) == (n, k), header["shape"]
assert len(data) == 10 + hlen + 8 * n * k, len(data)
m = struct.unpack("<%dd" % (n * k), data[10 + hlen:])
side = json.load(open(p("scores.npy.json")))
assert len(side["columns"]) == k and len(side["train_task"]) == n, side
col = {name: j for j, name in enumerate(side["columns"])}
for r in rows:
    i, j = int(r["train_row"]), col[r["target_task"]]
    assert m[i * k + j] == float(r["loss_change_if_removed"]), (i, j, m[i * k + j], r)  # numbers round-trip
    assert side["train_task"][i] == r["train_task"], (i, r)

# relatedness --validate: the summary compares with retraining.
r = json.load(open(p("r.json")))
assert "versus_retrain" in r, list(r)
assert len(r["matrix"]) == k and all(len(x) == k for x in r["matrix"]), r["matrix"]

# A saved model read back with --model-file gives the same scores.
loaded = list(csv.DictReader(open(p("scores-loaded.csv"))))
assert len(loaded) == len(rows)
for x, y in zip(rows, loaded):
    assert [x[c] for c in ("train_row", "train_task", "target_task")] == \
           [y[c] for c in ("train_row", "train_task", "target_task")], (x, y)
    assert close(float(x["loss_change_if_removed"]), float(y["loss_change_if_removed"])), (x, y)
print("outputs ok:", len(summaries), "JSON files,", len(rows), "scores")
