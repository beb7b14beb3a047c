/**
 * Symmetric eigensolver speed, ours (src/linalg/eigh.ts, single-threaded JS) against numpy
 * (LAPACK dsyevd through OpenBLAS, with however many threads it takes) on the same matrices, side
 * by side in one run:
 *
 *   node --import tsx bench/eigh.ts            # d = 768 and 1024
 *   node --import tsx bench/eigh.ts 300 512    # other sizes
 *
 * The matrix is the covariance of 2d anisotropic rows, x = z S M with z standard normal, S
 * diagonal with variances spanning 4 decades and M a dense random mixing: dense and rotated like the
 * covariance of real embeddings. It is written to a temporary .npy that a python3 child reads
 * (python3 with numpy must be on PATH), once with OpenBLAS's default threads and once on one thread.
 * Times are the best of a few runs (the machine may be shared); numpy's eigenvalues are also
 * compared with ours. Ours runs on the WebAssembly SIMD kernels (src/linalg/wasm) where there are
 * some; the 'plain JS' lines time the fallback loops on the same matrix (in the same process after
 * the kernels, which costs them up to about 25% against a process of their own).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeNpy } from '../src/io/npy-writer.ts';
import { matmul } from '../src/linalg/gemm.ts';
import { addGramUpper, symmetrizeUpper } from '../src/linalg/gram.ts';
import { eigh } from '../src/linalg/eigh.ts';
import { useEighKernels } from '../src/linalg/wasm/shared.ts';

const NUMPY = `
import json, sys, time
import numpy as np
a = np.load(sys.argv[1])
reps = int(sys.argv[2])
def best(fn):
    t = float('inf')
    for _ in range(reps):
        t0 = time.perf_counter(); out = fn(); t = min(t, time.perf_counter() - t0)
    return t, out
tv, v = best(lambda: np.linalg.eigvalsh(a))
te, _ = best(lambda: np.linalg.eigh(a))
print(json.dumps({"values": tv, "vectors": te, "eigvalsh": v[::-1].tolist()}))
`;

function gaussian(seed: number): () => number {
  let a = seed >>> 0;
  const u = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

function covariance(d: number): Float64Array {
  const rows = 2 * d;
  const g = gaussian(d);
  const z = new Float64Array(rows * d);
  for (let r = 0; r < rows; r++) for (let c = 0; c < d; c++) z[r * d + c] = g() * 10 ** (-(2 * c) / d);
  const mix = Float64Array.from({ length: d * d }, () => g() / Math.sqrt(d));
  const x = matmul(z, rows, d, mix, d);
  const cov = new Float64Array(d * d);
  addGramUpper(x, rows, d, cov);
  symmetrizeUpper(cov, d);
  for (let i = 0; i < d * d; i++) cov[i] /= rows;
  return cov;
}

function best(reps: number, fn: () => void): number {
  let t = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    t = Math.min(t, performance.now() - t0);
  }
  return t / 1000;
}

const line = (d: number, what: string, ours: number, numpy?: number, numpy1?: number) =>
  console.log(
    `eigh d=${d} ${what}: ours ${ours.toFixed(2)} s` +
      (numpy === undefined ? '' : `, numpy ${numpy.toFixed(2)} s, ratio ${(ours / numpy).toFixed(1)}x`) +
      (numpy1 === undefined ? '' : ` (numpy on 1 thread ${numpy1.toFixed(2)} s, ratio ${(ours / numpy1).toFixed(1)}x)`),
  );

interface NumpyTimes { values: number; vectors: number; eigvalsh: number[] }

/** numpy's best-of-5 times on the matrix in `path`; `threads` caps OpenBLAS (default: its own choice). */
function numpyTimes(path: string, threads?: number): NumpyTimes {
  const env = { ...process.env };
  if (threads !== undefined) env.OPENBLAS_NUM_THREADS = env.OMP_NUM_THREADS = String(threads);
  return JSON.parse(execFileSync('python3', ['-c', NUMPY, path, '5'], { encoding: 'utf8', env })) as NumpyTimes;
}

const sizes = process.argv.slice(2).map(Number);
const dir = mkdtempSync(join(tmpdir(), 'eigh-bench-'));
try {
  for (const d of sizes.length ? sizes : [768, 1024]) {
    const m = covariance(d);
    const path = join(dir, `cov${d}.npy`);
    await writeNpy(path, m, d, d, { dtype: 'f8' });
    const np = numpyTimes(path);
    const np1 = numpyTimes(path, 1);
    eigh(m, Math.min(d, 64), { vectors: true }); // warm the JIT on a small problem
    let values: Float64Array = new Float64Array(0);
    const tv = best(3, () => (values = eigh(m, d).values));
    const tf = best(3, () => eigh(m, d, { vectors: true }));
    const tt = best(3, () => eigh(m, d, { vectors: true, top: 2 }));
    useEighKernels(false);
    const pv = best(2, () => eigh(m, d));
    const pf = best(2, () => eigh(m, d, { vectors: true }));
    useEighKernels(true);
    let diff = 0;
    for (let i = 0; i < d; i++) diff = Math.max(diff, Math.abs(values[i] - np.eigvalsh[i]));
    line(d, 'values', tv, np.values, np1.values);
    line(d, 'vectors', tf, np.vectors, np1.vectors);
    line(d, 'top-2 vectors', tt);
    line(d, 'values, plain JS', pv, np.values, np1.values);
    line(d, 'vectors, plain JS', pf, np.vectors, np1.vectors);
    console.log(`eigh d=${d} max |ours - numpy| / max eigenvalue: ${(diff / Math.abs(np.eigvalsh[0])).toExponential(1)}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
