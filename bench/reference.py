#!/usr/bin/env python3
"""numpy reference for bench/analyze.ts: the fastest numpy we could write for the figures of
`isotropy analyze --json --no-report` (the input as read and after IsoBN) on one .npy file.
Prints one JSON object: {"results": [...], "seconds": {phase: s}, "peakRssKb": ..., "numpy": ...}
with the same metric names as the analysis JSON.

    python3 bench/reference.py emb.npy [--products float32] [--one-pass]

How it is fast (and what it keeps in float64):
- the file is read once, whole, as stored (float32 stays float32 in memory);
- the moments come from one pass over row blocks converted to float64: per block the sums, min/max,
  unit-row sums (one matrix-vector product per block), and one centred syrk (`Y.T @ Y`, which numpy
  runs as BLAS syrk), merged across blocks by Chan et al.'s update; no n x d float64 copy of the
  whole input;
- IsoBN's statistics follow algebraically (cov' = a cov a, mean' = mean a): no transformed rows;
- one eigvalsh per view for the spectrum, one eigh per view for I(W)'s directions;
- one more pass over the blocks for both views at once: one GEMM of the block against
  [V | a V'] (d x 2d), then a streaming log-sum-exp over its columns (both signs from one exp per
  value: exp(-p - m-) = exp(-m+ - m-) / exp(p - m+) wherever the column's spread allows), and the
  transformed rows' average cosine straight from the rows (IsoBN is diagonal: |w a|, sum of
  w a / |w a|), all in float64;
- `--one-pass`: what `isotropy analyze --one-pass` computes, i.e. load + moments + eigenvalues
  (partitionIsotropy null, and the transformed view's avgCosine null);
- `--products float32`: the GEMM in float32 on rows centred on their mean (what `isotropy`'s
  native backend does), to measure what that costs the figures and gains numpy.

Metrics as in fixtures/make_golden.py (biased covariance, constant dims left out of the
correlations, I(W) of Mu & Viswanath, exact average cosine via the sum of unit rows, IsoBN with
eps 1e-3 and beta 0.5 applied as W * a).
"""

import json
import math
import resource
import sys
import time

import numpy as np

EPS = 1e-3      # IsoBN epsilon (the CLI default)
BETA = 0.5      # IsoBN exponent (the CLI default)
BLOCK = 4096    # rows per block: the float64 temporaries stay within a few tens of MB
MAX_SPREAD = 700.0  # exp(-p - m-) = c / exp(p - m+) needs exp(p - m+) >= e^-700 (a normal float64)


class Phases:
    """Wall-clock seconds per phase: read, moments, eigh, products, exp, cosines, other."""

    def __init__(self):
        self.t = {k: 0.0 for k in ("read", "moments", "eigh", "products", "exp", "cosines", "other")}
        self.last = time.perf_counter()
        self.start = self.last

    def mark(self, phase):
        now = time.perf_counter()
        self.t[phase] += now - self.last
        self.last = now

    def done(self):
        self.mark("other")
        self.t["total"] = time.perf_counter() - self.start
        return self.t


def first_pass(W, ph):
    """Count, mean, centred co-moments, unit-row sums, min, max and zero rows, in float64 blocks."""
    n, d = W.shape
    mean = np.zeros(d)
    M = np.zeros((d, d))
    unit = np.zeros(d)
    lo = np.full(d, np.inf)
    hi = np.full(d, -np.inf)
    zero = 0
    count = 0
    for s in range(0, n, BLOCK):
        X = W[s:s + BLOCK].astype(np.float64)
        b = X.shape[0]
        np.minimum(lo, X.min(axis=0), out=lo)
        np.maximum(hi, X.max(axis=0), out=hi)
        ss = np.einsum("ij,ij->i", X, X)
        nz = ss > 0
        zero += b - int(nz.sum())
        inv = np.zeros(b)
        inv[nz] = 1.0 / np.sqrt(ss[nz])
        unit += inv @ X
        bm = X.mean(axis=0)
        X -= bm
        Mb = X.T @ X
        # Chan, Golub & LeVeque: M = Ma + Mb + delta delta^T na nb / n
        delta = bm - mean
        total = count + b
        Mb += np.outer(delta, delta) * (count * b / total)
        M += Mb
        mean += delta * (b / total)
        count = total
    ph.mark("moments")
    return count, mean, M, unit, lo, hi, zero


def iso_score(lam):
    d = lam.size
    sd = math.sqrt(d)
    vhat = sd * lam / np.linalg.norm(lam)
    delta = np.linalg.norm(vhat - 1.0) / math.sqrt(2.0 * (d - sd))
    return float(((d - delta ** 2 * (d - sd)) ** 2 - d) / (d * (d - 1)))


def moment_metrics(C, mean, const, lam):
    d = C.shape[0]
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
    return {
        "meanNorm": float(np.linalg.norm(mean)), "std": std, "corr": corr, "constantDims": int(const.sum()),
        "spectrum": spectrum, "isoScore": iso_score(lam),
    }, s


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


def second_pass(W, D, center, a, products, ph):
    """log Z for +-each column of D (both views side by side) and the IsoBN rows' unit-row sum."""
    n, d = W.shape
    k = D.shape[1]
    mp = np.full(k, -np.inf)
    mn = np.full(k, -np.inf)
    sp = np.zeros(k)
    sn = np.zeros(k)
    unit = np.zeros(d)
    nonzero = 0
    a2 = a * a
    if products == "float32":
        D32 = D.astype(np.float32)
        shift = center @ D   # x D = (x - c) D + c D, the float64 shift carries the offset exactly
    ph.mark("other")
    for s in range(0, n, BLOCK):
        X = W[s:s + BLOCK].astype(np.float64)
        if products == "float32":
            P = (X - center).astype(np.float32) @ D32
        else:
            P = X @ D
        ph.mark("products")
        if products == "float32":
            P = P.astype(np.float64)
            P += shift
        hi = P.max(axis=0)
        lo = P.min(axis=0)
        new_p = np.maximum(mp, hi)
        new_n = np.maximum(mn, -lo)
        with np.errstate(invalid="ignore"):
            sp *= np.where(np.isfinite(mp), np.exp(mp - new_p), 0.0)
            sn *= np.where(np.isfinite(mn), np.exp(mn - new_n), 0.0)
        mp, mn = new_p, new_n
        wide = mp + mn > MAX_SPREAD
        if wide.any():  # columns too spread out for the quotient: the negative side directly
            sn[wide] += np.exp(-P[:, wide] - mn[wide]).sum(axis=0)
        c = np.where(wide, 0.0, np.exp(-mp - mn))
        P -= mp
        np.exp(P, out=P)
        sp += P.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            np.divide(c, P, out=P)
        if wide.any():
            P[:, wide] = 0.0
        sn += P.sum(axis=0)
        ph.mark("exp")
        # IsoBN rows w a: |w a|^2 = (w * w) . a^2, sum of w a / |w a| = a * (inv . W)
        ss = (X * X) @ a2
        nz = ss > 0
        nonzero += int(nz.sum())
        inv = np.zeros(X.shape[0])
        inv[nz] = 1.0 / np.sqrt(ss[nz])
        unit += (inv @ X) * a
        ph.mark("cosines")
    return mp + np.log(sp), mn + np.log(sn), unit, nonzero


def blas_core():
    """The OpenBLAS kernels numpy runs on (e.g. Haswell, SkylakeX), or None if not found."""
    try:
        import ctypes
        import re
        with open("/proc/self/maps") as f:
            libs = sorted(set(re.findall(r"(/\S*openblas\S*\.so\S*)", f.read())))
        for lib in libs:
            handle = ctypes.CDLL(lib)
            for name in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename", "openblas_get_corename64_", "openblas_get_corename"):
                fn = getattr(handle, name, None)
                if fn is not None:
                    fn.restype = ctypes.c_char_p
                    return fn().decode()
    except Exception:  # noqa: BLE001 - only informative
        return None
    return None


def main():
    args = sys.argv[1:]
    one_pass = "--one-pass" in args
    if one_pass:
        args.remove("--one-pass")
    products = "float64"
    if "--products" in args:
        i = args.index("--products")
        products = args[i + 1]
        del args[i:i + 2]
        if products not in ("float32", "float64"):
            sys.exit("--products must be float32 or float64")
    ph = Phases()
    W = np.load(args[0])
    if W.dtype.kind != "f":
        W = W.astype(np.float64)
    ph.mark("read")
    n, d = W.shape

    count, mean, M, unit, lo, hi, zero = first_pass(W, ph)
    const = lo == hi
    C = M / count
    C[const, :] = 0.0
    C[:, const] = 0.0

    # IsoBN from the moments: cov' = a cov a, mean' = mean a
    s = np.sqrt(np.maximum(np.diag(C), 0.0))
    a = isobn_scale(C, s)
    Ci = C * np.outer(a, a)
    mean_i = mean * a
    const_i = const | (a == 0)
    ph.mark("other")

    lam = np.sort(np.linalg.eigvalsh(C))[::-1]
    lam_i = np.sort(np.linalg.eigvalsh(Ci))[::-1]
    ph.mark("eigh")

    none, _ = moment_metrics(C, mean, const, lam)
    iso, _ = moment_metrics(Ci, mean_i, const_i, lam_i)
    m = count - zero
    none["avgCosine"] = float((unit @ unit - m) / (m * (m - 1))) if m >= 2 else None
    iso["scale"] = a.tolist()
    none["partitionIsotropy"] = iso["partitionIsotropy"] = iso["avgCosine"] = None
    ph.mark("other")

    if not one_pass:
        # I(W)'s directions: eigenvectors of W^T W = n (cov + mean mean^T), and of (W a)^T (W a)
        _, V = np.linalg.eigh(count * (C + np.outer(mean, mean)))
        _, Vi = np.linalg.eigh(count * (Ci + np.outer(mean_i, mean_i)))
        ph.mark("eigh")
        D = np.concatenate([V, a[:, None] * Vi], axis=1)
        lzp, lzn, unit_i, nz_i = second_pass(W, D, mean, a, products, ph)
        for res, cols in ((none, slice(0, d)), (iso, slice(d, 2 * d))):
            logz = np.concatenate([lzp[cols], lzn[cols]])
            res["partitionIsotropy"] = float(np.exp(logz.min() - logz.max()))
        iso["avgCosine"] = float((unit_i @ unit_i - nz_i) / (nz_i * (nz_i - 1))) if nz_i >= 2 else None

    print(json.dumps({
        "results": [dict(transform="none", **none), dict(transform="isobn", **iso)],
        "seconds": ph.done(),
        "peakRssKb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "numpy": np.__version__,
        "products": products,
        "blas": blas_core(),
    }))


if __name__ == "__main__":
    main()
