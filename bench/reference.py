#!/usr/bin/env python3
"""numpy reference for bench/analyze.ts: what a researcher would write to get the metrics of
`isotropy analyze --json --transform isobn` (before and after IsoBN) on one .npy file, in float64,
vectorized. Prints one JSON object: {"results": [...], "seconds": {...}, "peakRssKb": ...} with
the same metric names as the analysis JSON.

    python3 bench/reference.py emb.npy

Metrics as in fixtures/make_golden.py (biased covariance, constant dims left out of the
correlations, I(W) of Mu & Viswanath on the raw rows, exact average cosine via the sum of unit
rows, IsoBN with eps 1e-3 and beta 0.5 applied as W * a), written for 100k x 768 rows instead of
for clarity: one X^T X per covariance (numpy calls BLAS syrk for Y.T @ Y), one W @ V for I(W).
"""

import json
import math
import resource
import sys
import time

import numpy as np

EPS = 1e-3      # IsoBN epsilon (the CLI default)
BETA = 0.5      # IsoBN exponent (the CLI default)
CONST_REL = (64 * np.finfo(np.float64).eps) ** 2


BLOCK = 8192    # rows per block in the I(W) step: keeps the temporaries in cache-sized chunks


def logz_blocked(W, V):
    """log Z(c) = log sum_i exp(c . w_i) for c = +v_k and -v_k (columns of V), as one streaming
    log-sum-exp over row blocks. Written blockwise on purpose: the one-shot `P = W @ V;
    logsumexp(P)` allocates several n x d float64 temporaries, and on this machine numpy then
    spends most of its time mapping fresh pages, which would flatter us."""
    d = V.shape[1]
    m = np.full(2 * d, -np.inf)
    s = np.zeros(2 * d)
    for start in range(0, W.shape[0], BLOCK):
        P = W[start:start + BLOCK] @ V
        P = np.concatenate([P, -P], axis=1)
        bm = P.max(axis=0)
        new = np.maximum(m, bm)
        s = s * np.exp(m - new) + np.exp(P - new).sum(axis=0)
        m = new
    return m + np.log(s)


def iso_score(lam):
    d = lam.size
    sd = math.sqrt(d)
    vhat = sd * lam / np.linalg.norm(lam)
    delta = np.linalg.norm(vhat - 1.0) / math.sqrt(2.0 * (d - sd))
    return float(((d - delta ** 2 * (d - sd)) ** 2 - d) / (d * (d - 1)))


def metrics(W, transformed, t):
    n, d = W.shape
    t0 = time.perf_counter()
    mu = W.mean(axis=0)
    Y = W - mu
    C = Y.T @ Y / n
    del Y
    if transformed:
        const = np.diag(C) <= CONST_REL * np.diag(C).max()
    else:
        const = W.min(axis=0) == W.max(axis=0)
    C[const, :] = 0.0
    C[:, const] = 0.0
    t1 = time.perf_counter()
    t["covariance"] += t1 - t0

    s = np.sqrt(np.maximum(np.diag(C), 0.0))
    std = {"mean": float(s.mean()), "std": float(s.std()), "min": float(s.min()), "max": float(s.max()),
           "cv": float(s.std() / s.mean()) if s.mean() > 0 else None}
    nc = ~const
    if nc.sum() >= 2:
        sub = C[np.ix_(nc, nc)] / np.outer(s[nc], s[nc])
        iu = np.triu_indices(sub.shape[0], 1)
        r = np.abs(np.clip(sub[iu], -1.0, 1.0))
        corr = {"meanAbs": float(r.mean()), "maxAbs": float(r.max())}
    else:
        corr = {"meanAbs": 0.0, "maxAbs": 0.0}
    lam = np.sort(np.linalg.eigvalsh(C))[::-1]
    total = lam.sum()
    pos = lam[lam > 0]
    p = pos / pos.sum()
    spectrum = {
        "top1": float(lam[0] / total),
        "top10": float(lam[:10].sum() / total),
        "effectiveRank": float(np.exp(-np.sum(p * np.log(p)))),
        "condition": float(lam[0] / lam[-1]) if lam[-1] > d * np.finfo(np.float64).eps * lam[0] else None,
        "eigenvalues": lam.tolist(),
    }
    t2 = time.perf_counter()
    t["spectrum"] += t2 - t1

    _, V = np.linalg.eigh(W.T @ W)
    logz = logz_blocked(W, V)
    part = float(np.exp(logz.min() - logz.max()))
    t3 = time.perf_counter()
    t["partitionIsotropy"] += t3 - t2

    norms = np.sqrt(np.einsum("ij,ij->i", W, W))
    keep = norms > 0
    S = (W[keep] / norms[keep, None]).sum(axis=0)
    m = int(keep.sum())
    cos = float((S @ S - m) / (m * (m - 1))) if m >= 2 else None
    t["avgCosine"] += time.perf_counter() - t3

    return {
        "meanNorm": float(np.linalg.norm(mu)), "std": std, "corr": corr, "constantDims": int(const.sum()),
        "spectrum": spectrum, "isoScore": iso_score(lam), "partitionIsotropy": part, "avgCosine": cos,
    }, C, s


def isobn_scale(C, s):
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = C / np.outer(s, s)
    zero = s == 0
    rho[zero, :] = 0.0
    rho[:, zero] = 0.0
    idx = np.nonzero(zero)[0]
    rho[idx, idx] = 1.0
    rho = np.clip(rho, -1.0, 1.0)
    gamma = np.mean(rho ** 2, axis=1)
    a = (gamma * s + EPS) ** (-BETA)
    return a * math.sqrt(np.trace(C) / (np.sum(np.diag(C) * a ** 2) + EPS))


def main():
    start = time.perf_counter()
    t = {"load": 0.0, "covariance": 0.0, "spectrum": 0.0, "partitionIsotropy": 0.0, "avgCosine": 0.0, "isobn": 0.0}
    W = np.load(sys.argv[1]).astype(np.float64)
    t["load"] = time.perf_counter() - start
    none, C, s = metrics(W, False, t)
    t0 = time.perf_counter()
    a = isobn_scale(C, s)
    Wa = W * a
    del W
    t["isobn"] = time.perf_counter() - t0
    iso, _, _ = metrics(Wa, True, t)
    iso["scale"] = a.tolist()
    t["total"] = time.perf_counter() - start
    print(json.dumps({
        "results": [dict(transform="none", **none), dict(transform="isobn", **iso)],
        "seconds": t,
        "peakRssKb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "numpy": np.__version__,
    }))


if __name__ == "__main__":
    main()
