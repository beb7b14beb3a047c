/**
 * The OpenBLAS addon against numpy (float64) and the portable TypeScript kernels, side by side in one run:
 *
 *   node --import tsx bench/native.ts            # 100k x 768 Gram, eigh at 768 and 1024
 *   node --import tsx bench/native.ts 20000      # fewer rows for the Gram (quicker)
 *
 * Cases: X^T X of a random 100k x 768 float64 matrix (our syrkUpper vs numpy `X.T @ X`, which numpy
 * also runs as a syrk; addGramUpper on a 5k-row slice for scale), and the symmetric eigensolver at
 * d = 768 and 1024, values only and with vectors (our syevd vs numpy eigvalsh / eigh, both LAPACK
 * dsyevd; our TypeScript `eigh` at 768 once). Best of a few runs each.
 *
 * GFLOP/s use nominal counts: n d (d + 1) for the Gram (multiply and add counted, upper triangle only,
 * the same for every implementation); 4/3 d^3 for eigenvalues only and 9 d^3 with vectors (Golub and
 * Van Loan's counts for tridiagonal reduction + QR; divide and conquer does less). numpy runs in a
 * python3 child after our cases, so the two never share the cores.
 */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { addGramUpper } from '../src/linalg/gram.ts';
import { eigh } from '../src/linalg/eigh.ts';
import { loadNative, nativeUnavailableReason } from '../src/linalg/native.ts';

const ROWS = Number(process.argv[2] ?? 100_000);
const DIMS = 768;
const EIG_SIZES = [768, 1024];

function fillUniform(a: Float64Array, seed: number): void {
  // xorshift32 to uniform [-1, 1): the values do not matter for speed, only that they are finite.
  let x = (seed * 0x9e3779b1) | 1;
  for (let i = 0; i < a.length; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    a[i] = (x >>> 0) / 2147483648 - 1;
  }
}

function best(reps: number, fn: () => void): number {
  let t = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    t = Math.min(t, (performance.now() - t0) / 1000);
  }
  return t;
}

function line(kase: string, who: string, seconds: number, flops: number): void {
  console.log(`${kase.padEnd(26)} ${who.padEnd(8)} ${seconds.toFixed(3).padStart(8)} s ${(flops / seconds / 1e9).toFixed(1).padStart(7)} GFLOP/s`);
}

/** A symmetric positive definite d x d matrix: the Gram of a random 2d x d block. */
function spd(d: number, seed: number): Float64Array {
  const x = new Float64Array(2 * d * d);
  fillUniform(x, seed);
  const g = new Float64Array(d * d);
  addGramUpper(x, 2 * d, d, g);
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) g[i * d + j] = g[j * d + i];
  return g;
}

const blas = loadNative();
console.log(`native: ${blas ? blas.info() : `unavailable (${nativeUnavailableReason()})`}`);
const gramFlops = (n: number, d: number) => n * d * (d + 1);

const x = new Float64Array(ROWS * DIMS);
fillUniform(x, 1);
const gramCase = `gram ${ROWS}x${DIMS}`;
if (blas) {
  const out = new Float64Array(DIMS * DIMS);
  line(gramCase, 'native', best(3, () => blas.syrkUpper(x, ROWS, DIMS, out, 0)), gramFlops(ROWS, DIMS));
}
{
  const sliceRows = Math.min(5000, ROWS);
  const out = new Float64Array(DIMS * DIMS);
  line(`gram ${sliceRows}x${DIMS}`, 'ts', best(1, () => addGramUpper(x, sliceRows, DIMS, out)), gramFlops(sliceRows, DIMS));
}

for (const d of EIG_SIZES) {
  const m = spd(d, d);
  if (blas) {
    line(`eigvalsh ${d}`, 'native', best(3, () => blas.syevd(m, d, false)), (4 / 3) * d ** 3);
    line(`eigh ${d} (vectors)`, 'native', best(3, () => blas.syevd(m, d, true)), 9 * d ** 3);
  }
  if (d === 768) line(`eigh ${d} (vectors)`, 'ts', best(1, () => eigh(m, d, { vectors: true })), 9 * d ** 3);
}

const py = String.raw`
import sys, time, numpy as np
rows, dims, sizes = int(sys.argv[1]), int(sys.argv[2]), [int(s) for s in sys.argv[3].split(',')]
def best(reps, fn):
    t = float('inf')
    for _ in range(reps):
        t0 = time.perf_counter(); fn(); t = min(t, time.perf_counter() - t0)
    return t
def line(case, secs, flops):
    print(f"{case:<26} {'numpy':<8} {secs:8.3f} s {flops / secs / 1e9:7.1f} GFLOP/s")
cfg = np.__config__.CONFIG['Build Dependencies']['blas']
print(f"numpy {np.__version__}: {cfg.get('name')} {cfg.get('version')}")
rng = np.random.default_rng(1)
x = rng.uniform(-1, 1, size=(rows, dims))
line(f"gram {rows}x{dims}", best(3, lambda: x.T @ x), rows * dims * (dims + 1))
del x
for d in sizes:
    b = rng.uniform(-1, 1, size=(2 * d, d)); m = b.T @ b
    line(f"eigvalsh {d}", best(3, lambda: np.linalg.eigvalsh(m)), 4 / 3 * d ** 3)
    line(f"eigh {d} (vectors)", best(3, lambda: np.linalg.eigh(m)), 9 * d ** 3)
`;
const r = spawnSync('python3', ['-c', py, String(ROWS), String(DIMS), EIG_SIZES.join(',')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
if (r.status === 0) process.stdout.write(r.stdout);
else console.log(`numpy: not run (${(r.error?.message ?? r.stderr.trim().split('\n').at(-1)) || `exit ${r.status}`})`);
