"""Compares two score files of `mtif influence` (CSV or .npy).

    python3 compare_scores.py A B [RTOL]

Text columns must be equal; numbers must agree to RTOL relative to the largest
magnitude of their column (default 0: bit-identical). Prints the largest
differences found, and exits 1 when they are over the tolerance. Needs numpy.
"""
import csv
import sys

import numpy as np

a_path, b_path = sys.argv[1], sys.argv[2]
rtol = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0


def load(path):
    """(text columns, numeric matrix) of a score file."""
    if path.endswith(".npy"):
        return [], np.load(path)
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    numeric = [i for i, name in enumerate(header) if name in ("loss_change_if_removed", "task_part", "shared_part")]
    text = [[r[i] for i in range(len(header)) if i not in numeric] for r in body]
    return [header] + text, np.array([[float(r[i]) for i in numeric] for r in body]).reshape(len(body), len(numeric))


a_text, a = load(a_path)
b_text, b = load(b_path)
if a_text != b_text:
    sys.exit(f"text columns differ between {a_path} and {b_path}")
if a.shape != b.shape:
    sys.exit(f"shapes differ: {a.shape} vs {b.shape}")
scale = np.maximum(np.abs(a).max(axis=0, initial=0.0), np.finfo(float).tiny)
diff = np.abs(a - b)
columnwise = float((diff / scale).max(initial=0.0))
denominator = np.maximum(np.abs(a), np.abs(b))
elementwise = float(np.where(denominator > 0, diff / np.where(denominator > 0, denominator, 1), 0).max(initial=0.0))
identical = bool(np.array_equal(a.view(np.uint64), b.view(np.uint64)))
print(f"{b_path}: identical={identical} max_rel_to_column_max={columnwise:.3g} max_rel_elementwise={elementwise:.3g} "
      f"differing={int((diff > 0).sum())}/{a.size}")
if rtol == 0 and not identical:
    sys.exit(1)
if columnwise > rtol:
    sys.exit(1)
