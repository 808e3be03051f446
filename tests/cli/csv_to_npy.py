"""Writes a data set CSV (task,y,features...) as an .npy folder for mtif:
X.npy (float64 or float32), y.npy, task.npy (int32), tasks.txt.

    python3 csv_to_npy.py DATA.csv OUT_DIR [float32] [TASK_LABELS_FROM.csv]

Task ids follow the order mtif gives CSV labels (natural order: task2 before
task10), so scores from either form line up column for column. Needs numpy.
"""
import csv
import os
import re
import sys

import numpy as np

src, out = sys.argv[1], sys.argv[2]
dtype = np.float32 if "float32" in sys.argv[3:] else np.float64
labels_from = next((a for a in sys.argv[3:] if a.endswith(".csv")), src)


def natural(label):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", label)]


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


header, rows = read(src)
labels = sorted({r[header.index("task")] for r in read(labels_from)[1]}, key=natural)
ids = {label: i for i, label in enumerate(labels)}
features = [i for i, name in enumerate(header) if name not in ("task", "y", "split")]
os.makedirs(out, exist_ok=True)
np.save(os.path.join(out, "X.npy"), np.array([[float(r[i]) for i in features] for r in rows], dtype=dtype))
np.save(os.path.join(out, "y.npy"), np.array([float(r[header.index("y")]) for r in rows]))
np.save(os.path.join(out, "task.npy"), np.array([ids[r[header.index("task")]] for r in rows], dtype=np.int32))
with open(os.path.join(out, "tasks.txt"), "w") as f:
    f.write("".join(label + "\n" for label in labels))
