"""Streams a synthetic multitask regression data set to .npy folders for mtif,
a block of rows at a time, so 10^7 x 50 never sits in memory:

    /usr/bin/python3 gen_npy.py OUT_DIR --tasks K --rows N --features D [--test-rows M] [--seed S] [--float64]

writes OUT_DIR/train/{X,y,task}.npy and OUT_DIR/test/{X,y,task}.npy. Each
training row gets a uniformly random task (every task gets rows when N >> K);
task k's weights are w_k = gamma + theta_k with gamma ~ N(0, I) shared and
theta_k ~ N(0, 0.5^2 I); y = x^T w_k + N(0, 0.5^2) noise. X is float32 by
default (mtif widens it exactly); y float64; task int32. M test rows per task.
"""
import argparse
import os

import numpy as np
from numpy.lib.format import open_memmap


def write(folder, n, tasks_of_block, W, d, dtype, rng, block=1_000_000):
    os.makedirs(folder, exist_ok=True)
    X = open_memmap(os.path.join(folder, "X.npy"), mode="w+", dtype=dtype, shape=(n, d))
    y = open_memmap(os.path.join(folder, "y.npy"), mode="w+", dtype=np.float64, shape=(n,))
    t = open_memmap(os.path.join(folder, "task.npy"), mode="w+", dtype=np.int32, shape=(n,))
    for b in range(0, n, block):
        e = min(n, b + block)
        task = tasks_of_block(b, e)
        x = rng.standard_normal((e - b, d)).astype(dtype)
        X[b:e] = x
        y[b:e] = np.einsum("ij,ij->i", x.astype(np.float64), W[task]) + 0.5 * rng.standard_normal(e - b)
        t[b:e] = task
    for a in (X, y, t):
        a.flush()
    del X, y, t


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--tasks", type=int, required=True)
    p.add_argument("--rows", type=int, required=True)
    p.add_argument("--features", type=int, required=True)
    p.add_argument("--test-rows", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--float64", action="store_true")
    a = p.parse_args()
    rng = np.random.default_rng(a.seed)
    K, d = a.tasks, a.features
    W = rng.standard_normal(d) + 0.5 * rng.standard_normal((K, d))
    dtype = np.float64 if a.float64 else np.float32
    write(os.path.join(a.out, "train"), a.rows, lambda b, e: rng.integers(0, K, e - b, dtype=np.int32), W, d, dtype, rng)
    m = a.test_rows
    write(os.path.join(a.out, "test"), K * m, lambda b, e: (np.arange(b, e) // m).astype(np.int32), W, d, dtype, rng)


if __name__ == "__main__":
    main()
