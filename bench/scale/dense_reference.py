"""The dense alternative to mtif's block engine, written as a user would:
the full Hessian of the multitask objective (p = (K+1) d parameters:
theta_1..theta_K, gamma) as one dense p x p matrix (filled from the per-task
Gram blocks), one dense solve for
the fit and one for the targets, and every row's full p-vector gradient
dotted with the solved targets (in blocks of rows, to fit in memory).

    /usr/bin/python3 dense_reference.py TRAIN_DIR TEST_DIR OUT.npy --backend numpy|torch
        [--lambda-task 1] [--lambda-shared 1] [--loo-rows R] [--json timings.json]

Same objective and scores as mtif (mtif-math.md 1.1, 3.1): squared loss
averaged per task, score(r, t) = (1/n_l) a_t^T H^-1 g_r, targets = each
task's mean test loss. float64 throughout. --loo-rows R also times R
brute-force leave-one-out refits (re-form H without the row, solve again).
"""
import argparse
import json
import os
import time

import numpy as np


def load(folder):
    X = np.load(os.path.join(folder, "X.npy")).astype(np.float64)
    y = np.load(os.path.join(folder, "y.npy")).astype(np.float64).reshape(-1)
    t = np.load(os.path.join(folder, "task.npy")).astype(np.int64).reshape(-1)
    return X, y, t


def main():
    p = argparse.ArgumentParser()
    p.add_argument("train")
    p.add_argument("test")
    p.add_argument("out")
    p.add_argument("--backend", choices=["numpy", "torch"], default="numpy")
    p.add_argument("--lambda-task", type=float, default=1.0)
    p.add_argument("--lambda-shared", type=float, default=1.0)
    p.add_argument("--loo-rows", type=int, default=0)
    p.add_argument("--json")
    a = p.parse_args()
    timings = {}
    start = time.perf_counter()
    X, y, task = load(a.train)
    Xt, yt, task_t = load(a.test)
    n, d = X.shape
    K = int(task.max()) + 1
    P = (K + 1) * d
    n_k = np.bincount(task, minlength=K).astype(np.float64)
    timings["read_s"] = time.perf_counter() - start

    if a.backend == "torch":
        t0 = time.perf_counter()
        import torch
        timings["import_torch_s"] = time.perf_counter() - t0
        torch.set_num_threads(os.cpu_count())
        T = lambda m: torch.from_numpy(np.ascontiguousarray(m))
        solve = lambda H, B: torch.linalg.solve(T(H), T(B)).numpy()
        matmul = lambda A, B: (T(A) @ T(B)).numpy()
    else:
        solve = np.linalg.solve
        matmul = np.matmul

    def features(rows_X, rows_task):
        """Each row's full p-vector: x in its task's theta slot and in the gamma slot."""
        U = np.zeros((rows_X.shape[0], P))
        for j in range(d):
            U[np.arange(rows_X.shape[0]), rows_task * d + j] = rows_X[:, j]
        U[:, K * d:] = rows_X
        return U

    block = max(1, int(2e8 // (8 * P)))  # rows per block: 200 MB of dense gradients

    def hessian_and_rhs(weights):
        """The dense p x p Hessian and the normal equations' right-hand side.
        Filled task by task from X_k^T diag(w) X_k / n_k (the only non-zero
        blocks: theta_k theta_k, theta_k gamma, gamma gamma): the cheapest way
        to form it, so the comparison is with the dense solve and the dense
        scoring, not with a wasteful assembly."""
        H = np.zeros((P, P))
        b = np.zeros(P)
        for k in range(K):
            rows = task == k
            Xk, wk = X[rows], weights[rows] / n_k[k]
            G = matmul(Xk.T * wk, Xk)
            c = Xk.T @ (wk * y[rows])
            sk, g = slice(k * d, (k + 1) * d), slice(K * d, P)
            H[sk, sk] += G
            H[sk, g] += G
            H[g, sk] += G
            H[g, g] += G
            b[sk] += c
            b[g] += c
        H[np.arange(K * d), np.arange(K * d)] += a.lambda_task
        H[np.arange(K * d, P), np.arange(K * d, P)] += a.lambda_shared
        return H, b

    t0 = time.perf_counter()
    H, b = hessian_and_rhs(np.ones(n))
    timings["form_hessian_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    w = solve(H, b[:, None])[:, 0]
    timings["fit_solve_s"] = time.perf_counter() - t0

    # Targets: gradient of each task's mean test loss, a_t in R^p.
    t0 = time.perf_counter()
    Ut = features(Xt, task_t)
    rt = Ut @ w - yt
    m_k = np.bincount(task_t, minlength=K).astype(np.float64)
    A = np.zeros((P, K))
    for k in range(K):
        rows = task_t == k
        A[:, k] = Ut[rows].T @ rt[rows] / m_k[k]
    Z = solve(H, A)  # H^-1 a_t for every target
    timings["target_solve_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    scores = np.empty((n, K))
    for s in range(0, n, block):
        e = min(n, s + block)
        U = features(X[s:e], task[s:e])
        r = U @ w - y[s:e]
        scores[s:e] = (r / n_k[task[s:e]])[:, None] * matmul(U, Z)
    timings["score_s"] = time.perf_counter() - t0
    np.save(a.out, scores)
    timings["total_s"] = time.perf_counter() - start
    # The work itself: form H, the two solves and the scoring (no reading, no import).
    timings["compute_s"] = sum(timings[k] for k in ["form_hessian_s", "fit_solve_s", "target_solve_s", "score_s"])

    if a.loo_rows:
        t0 = time.perf_counter()
        for r in range(a.loo_rows):
            weights = np.ones(n)
            weights[r] = 0
            Hr, br = hessian_and_rhs(weights)
            solve(Hr, br[:, None])
        timings["loo_refit_s_per_row"] = (time.perf_counter() - t0) / a.loo_rows
    timings.update({"backend": a.backend, "rows": n, "tasks": K, "features": d, "parameters": P})
    if a.json:
        with open(a.json, "w") as f:
            json.dump(timings, f, indent=1)
    print(json.dumps(timings))


if __name__ == "__main__":
    main()
