/**
 * `isotropy analyze --json --no-report` against the fastest numpy we could write for the same
 * figures (bench/reference.py), end to end on the same files, side by side, plus the throughput of
 * every kernel backend available here.
 *
 *   npm run bench                                        # 100k x 768 and 100k x 1024, 3 runs each
 *   npm run bench -- --rows 20000 --dims 256 --runs 1    # a quick look
 *   npm run bench -- --rows 50000 --dims 4096 --runs 1 --modes full   # wide embeddings
 *   npm run bench -- --big                               # also a 4 GiB file: our time and peak RSS only
 *
 * Options: --rows N, --dims D[,D...], --runs R, --backend B[,B...] (each one against numpy, e.g.
 * native,wasm; default: what auto picks), --threads N (passed to ours), --modes full,one-pass
 * (default both: `--one-pass` against numpy's load + covariance + eigendecomposition), --products
 * float32 (numpy's I(W) GEMM in float32 too; default float64), --dir PATH (keep the files there and
 * reuse them; default a temp dir, removed), --no-kernels, --no-numpy.
 *
 * Files: seeded float32 embeddings-like rows (a mean, 16 strong latent directions, per-dimension
 * noise of unequal scales). Runs alternate numpy / ours (/ ours with the next backend); wall times
 * include starting the interpreter and reading the file, from the page cache after the first run.
 * Both run with this process's environment (OPENBLAS_* included: the header prints them, and each
 * side's OpenBLAS kernels are named). Phases: ours from ISOTROPY_PHASES (the last run), numpy's
 * from its own timers. Peak RSS: ours from process.resourceUsage() at exit (all threads), numpy's
 * from getrusage. Agreement: the largest relative difference of every metric between the two,
 * before and after IsoBN (eigenvalues relative to the largest one).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 as prng } from '../src/analyze/sample.ts';
import { NpyWriter } from '../src/io/index.ts';
import { eigh as ownEigh } from '../src/linalg/eigh.ts';
import { loadBackend, unavailableReason } from '../src/linalg/backends/select.ts';
import { BACKEND_NAMES, type KernelBackend } from '../src/linalg/backends/types.ts';
import { loadWasmBackend } from '../src/linalg/backends/wasm.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist/cli/main.js');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const flag = (name: string) => process.argv.includes(`--${name}`);
const ROWS = Number(arg('rows') ?? 100000);
const DIMS = (arg('dims') ?? '768,1024').split(',').map(Number);
const RUNS = Number(arg('runs') ?? 3);
const BACKENDS = (arg('backend') ?? 'auto').split(',');
const MODES = (arg('modes') ?? 'full,one-pass').split(',') as Array<'full' | 'one-pass'>;
const PRODUCTS = arg('products') ?? 'float64';

// ---------------------------------------------------------------- data

function normals(rand: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) { const s = spare; spare = null; return s; }
    const r = Math.sqrt(-2 * Math.log(1 - rand())), t = 2 * Math.PI * rand();
    spare = r * Math.sin(t);
    return r * Math.cos(t);
  };
}

/** rows x d float32: mean + 16 latent directions (scales 8 * 0.8^k) + noise (scales 0.05..1, shuffled). */
async function writeEmbeddings(path: string, rows: number, d: number, seed: number): Promise<void> {
  const g = normals(prng(seed));
  const K = 16;
  const mean = Float64Array.from({ length: d }, () => 2 * g());
  const dirs = Float64Array.from({ length: K * d }, (_, i) => (8 * 0.8 ** Math.floor(i / d) * g()) / Math.sqrt(d));
  const noise = Float64Array.from({ length: d }, (_, j) => 0.05 * 20 ** (j / (d - 1)));
  for (let j = d - 1; j > 0; j--) {
    const k = Math.floor(prng(seed + j)() * (j + 1));
    [noise[j], noise[k]] = [noise[k], noise[j]];
  }
  const w = await NpyWriter.create(path, rows, d, { dtype: 'f4' });
  const block = 4096, f = new Float64Array(K);
  const out = new Float32Array(block * d);
  for (let r0 = 0; r0 < rows; r0 += block) {
    const b = Math.min(block, rows - r0);
    for (let r = 0; r < b; r++) {
      for (let k = 0; k < K; k++) f[k] = g();
      const o = r * d;
      for (let j = 0; j < d; j++) {
        let v = mean[j] + noise[j] * g();
        for (let k = 0; k < K; k++) v += f[k] * dirs[k * d + j];
        out[o + j] = v;
      }
    }
    await w.write(out.subarray(0, b * d), b);
  }
  await w.commit();
}

// ---------------------------------------------------------------- runs

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const fmt = (s: number) => s.toFixed(2);

interface Run { seconds: number; rssKb: number; json: any; phases: string | null }

function runNumpy(file: string, mode: 'full' | 'one-pass'): Run | string {
  const extra = [...(mode === 'one-pass' ? ['--one-pass'] : []), ...(PRODUCTS !== 'float64' ? ['--products', PRODUCTS] : [])];
  const t0 = performance.now();
  const r = spawnSync('python3', [join(ROOT, 'bench/reference.py'), file, ...extra], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.error || r.status !== 0) return `numpy reference failed: ${r.error?.message ?? r.stderr.trim().split('\n').pop()}`;
  const json = JSON.parse(r.stdout);
  const phases = Object.entries(json.seconds as Record<string, number>).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ');
  return { seconds, rssKb: json.peakRssKb, json, phases };
}

// Reports the process's peak RSS (worker threads included) on stderr as it exits.
const RSS_HOOK = `data:text/javascript,process.on('exit',()=>process.stderr.write('\\npeak-rss-kb '+process.resourceUsage().maxRSS+'\\n'))`;

function runOurs(file: string, backend: string, mode: 'full' | 'one-pass'): Run {
  const extra = ['--no-report', ...(backend !== 'auto' ? ['--backend', backend] : []), ...(arg('threads') ? ['--threads', arg('threads')!] : []),
    ...(mode === 'one-pass' ? ['--one-pass'] : [])];
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', RSS_HOOK, CLI, 'analyze', file, '--json', '-q', ...extra],
    { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, ISOTROPY_PHASES: '1' } });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`isotropy analyze failed: ${r.stderr}`);
  const rss = Number(/peak-rss-kb (\d+)/.exec(r.stderr)?.[1] ?? NaN);
  const phases = /phases \(s\): (.*)/.exec(r.stderr)?.[1]?.replace(/(\d+\.\d\d)\d/g, '$1') ?? null;
  return { seconds, rssKb: rss, json: JSON.parse(r.stdout), phases };
}

function leaves(o: unknown, prefix = ''): Array<[string, number | null]> {
  if (o === null || typeof o === 'number') return [[prefix, o as number | null]];
  if (Array.isArray(o)) return o.flatMap((v, i) => leaves(v, `${prefix}[${i}]`));
  if (typeof o === 'object' && o) return Object.entries(o).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
  return [];
}

/** Largest relative difference per metric (array entries folded into one line), before and after IsoBN. */
function agreement(ours: any, ref: any): Map<string, number> {
  const worst = new Map<string, number>();
  for (const want of ref.results) {
    const got = ours.results.find((r: any) => r.transform === want.transform);
    if (!got) continue;
    const flat = new Map(leaves(got));
    for (const [path, w] of leaves(want)) {
      const g = flat.get(path);
      const key = path.replace(/\[\d+\]/, '[]');
      let rel: number;
      if (w === null || g === null || g === undefined) rel = w === g ? 0 : Infinity;
      else {
        const floor = key === 'spectrum.eigenvalues[]' ? Math.abs(want.spectrum.eigenvalues[0]) : 1e-300;
        rel = Math.abs(g - w) / Math.max(Math.abs(w), floor);
      }
      worst.set(key, Math.max(worst.get(key) ?? 0, rel));
    }
  }
  return worst;
}

const rssLine = (rs: Run[]) => `peak RSS ${(Math.max(...rs.map((r) => r.rssKb)) / 1024).toFixed(0)} MB`;
const times = (rs: Run[]) => `${rs.map((r) => fmt(r.seconds)).join(' ')} s, median ${fmt(median(rs.map((r) => r.seconds)))} s`;

async function benchFile(dir: string, rows: number, d: number): Promise<void> {
  const file = join(dir, `emb_${rows}x${d}.npy`);
  const t0 = performance.now();
  const reuse = arg('dir') !== undefined && existsSync(file);
  if (!reuse) await writeEmbeddings(file, rows, d, 1000 + d);
  const mb = statSync(file).size / 1e6;
  console.log(`\n${rows} x ${d} float32 (${mb.toFixed(0)} MB, ${reuse ? 'kept from an earlier run' : `written in ${fmt((performance.now() - t0) / 1000)} s`})`);
  let skipNumpy: string | null = flag('no-numpy') ? 'skipped (--no-numpy)' : null;
  if (!skipNumpy) {
    const probe = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) skipNumpy = 'skipped: python3 with numpy is not available';
  }
  for (const mode of MODES) {
    const numpy: Run[] = [];
    const ours = new Map<string, Run[]>(BACKENDS.map((b) => [b, []]));
    for (let k = 0; k < RUNS; k++) {
      if (!skipNumpy) {
        const r = runNumpy(file, mode);
        if (typeof r === 'string') skipNumpy = r;
        else numpy.push(r);
      }
      for (const b of BACKENDS) ours.get(b)!.push(runOurs(file, b, mode));
    }
    console.log(`  ${mode === 'full' ? 'full analysis' : '--one-pass (numpy: load + covariance + eigenvalues)'}:`);
    if (skipNumpy) console.log(`    numpy  ${skipNumpy}`);
    else {
      console.log(`    numpy  ${times(numpy)}, ${rssLine(numpy)} (numpy ${numpy[0].json.numpy}, OpenBLAS ${numpy[0].json.blas ?? '?'} kernels, products ${numpy[0].json.products})`);
      console.log(`      phases (last run, s): ${numpy.at(-1)!.phases}`);
    }
    for (const [name, rs] of ours) {
      const be = rs[0].json.backend;
      console.log(`    ours   ${times(rs)}, ${rssLine(rs)}, backend ${be ? `${be.name}, ${be.threads} thread(s): ${be.detail}` : 'not reported'}`);
      if (rs.at(-1)!.phases) console.log(`      phases (last run, s): ${rs.at(-1)!.phases}`);
      if (skipNumpy) continue;
      const ratio = median(rs.map((r) => r.seconds)) / median(numpy.map((r) => r.seconds));
      console.log(`      ratio ours/numpy ${ratio.toFixed(2)}${name !== 'auto' ? ` (--backend ${name})` : ''}`);
      const agree = agreement(rs[0].json, numpy[0].json);
      const worst = Math.max(...agree.values());
      console.log(`      agreement: max relative difference ${worst.toExponential(1)}${worst <= 1e-6 ? ' (within 1e-6)' : ' (ABOVE 1e-6)'}`);
      console.log(`        ${[...agree].filter(([, v]) => v > 1e-12).map(([k, v]) => `${k} ${v.toExponential(1)}`).join(', ') || 'every metric within 1e-12'}`);
    }
  }
}

// ---------------------------------------------------------------- kernels

function timeIt(fn: () => void, minSeconds = 0.5): number {
  fn();
  let reps = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minSeconds * 1000) { fn(); reps++; }
  return (performance.now() - t0) / 1000 / reps;
}

function kernelLine(label: string, be: KernelBackend, d: number): string {
  const rows = 4096, e = 2 * d;
  const g = normals(prng(d));
  const x = Float64Array.from({ length: rows * d }, () => g());
  const out = new Float64Array(d * d);
  const tg = timeIt(() => be.gramUpper(x, rows, d, out));
  const dir = Float64Array.from({ length: d * e }, () => g() / Math.sqrt(d));
  const p = be.projector(dir, d, e, null, new Float64Array(d));
  const tp = timeIt(() => p.apply(x, rows));
  p.dispose();
  // Gram: the d(d+1)/2 distinct entries, 2 flops each per row; projection 2 flops per product term.
  const gram = (rows * d * (d + 1)) / tg / 1e9, proj = (2 * rows * d * e) / tp / 1e9;
  let line = `  ${label.padEnd(26)} gram ${gram.toFixed(1).padStart(5)} GFLOP/s   projection ${proj.toFixed(1).padStart(5)} GFLOP/s`;
  if (be.passProjector) {
    // the second pass's projector (float32 products kept in the backend), 1024 rows per call as there
    const pp = be.passProjector(dir, d, e, null, new Float64Array(d));
    const tf = timeIt(() => { for (let r0 = 0; r0 < rows; r0 += 1024) pp.project(x.subarray(r0 * d, (r0 + 1024) * d), 1024); });
    pp.dispose();
    line += `   pass projector (float32) ${((2 * rows * d * e) / tf / 1e9).toFixed(1).padStart(5)} GFLOP/s`;
  }
  return line;
}

async function benchKernels(d: number): Promise<void> {
  console.log(`\nkernels, 4096 x ${d} block (projection onto ${2 * d} columns); ours on one thread except native:`);
  for (const name of BACKEND_NAMES) {
    const why = await unavailableReason(name);
    if (why) { console.log(`  ${name.padEnd(26)} not available: ${why}`); continue; }
    if (name === 'wasm') {
      console.log(kernelLine('wasm (float32 projection)', loadWasmBackend(), d));
      console.log(kernelLine('wasm (float64 projection)', loadWasmBackend({ projection: 'float64' }), d));
    } else {
      console.log(kernelLine(name, await loadBackend(name), d));
    }
  }
  const npk = spawnSync('python3', ['-c', `
import numpy as np, time
rng = np.random.default_rng(1); x = rng.standard_normal((4096, ${d})); w = rng.standard_normal((${d}, ${2 * d}))
def t(f):
    f(); best = 1e9
    for _ in range(3):
        t0 = time.perf_counter(); f(); best = min(best, time.perf_counter() - t0)
    return best
print(f"{4096 * ${d} * ${d + 1} / t(lambda: x.T @ x) / 1e9:.1f} {2 * 4096 * ${d} * ${2 * d} / t(lambda: x @ w) / 1e9:.1f}")
`], { encoding: 'utf8' });
  if (npk.status === 0) {
    const [gram, proj] = npk.stdout.trim().split(' ');
    console.log(`  ${'numpy (float64, all threads)'.padEnd(26)} gram ${gram.padStart(5)} GFLOP/s   projection ${proj.padStart(5)} GFLOP/s`);
  }
  const g = normals(prng(7));
  const a = Float64Array.from({ length: 2 * d * d }, () => g());
  const m = new Float64Array(d * d);
  (await loadBackend('js')).gramUpper(a, 2 * d, d, m);
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) m[i * d + j] = m[j * d + i];
  const ms = (f: () => void) => (timeIt(f, 1) * 1000).toFixed(0);
  const parts = [`own ${ms(() => ownEigh(m, d))} ms values, ${ms(() => ownEigh(m, d, { vectors: true }))} ms vectors`];
  if ((await unavailableReason('native')) === null) {
    const n = await loadBackend('native');
    parts.push(`native ${ms(() => n.eigh!(m, d, {}))} / ${ms(() => n.eigh!(m, d, { vectors: true }))} ms`);
  }
  const py = spawnSync('python3', ['-c', `
import numpy as np, time
rng = np.random.default_rng(7); a = rng.standard_normal((${2 * d}, ${d})); m = a.T @ a
def t(f):
    f(); best = 1e9
    for _ in range(3):
        t0 = time.perf_counter(); f(); best = min(best, time.perf_counter() - t0)
    return best * 1000
print(f"{t(lambda: np.linalg.eigvalsh(m)):.0f} / {t(lambda: np.linalg.eigh(m)):.0f}")
`], { encoding: 'utf8' });
  if (py.status === 0) parts.push(`numpy ${py.stdout.trim()} ms`);
  console.log(`  eigh ${d} x ${d} (values / vectors): ${parts.join('; ')}`);
}

// ---------------------------------------------------------------- main

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`isotropy bench ${new Date().toISOString().slice(0, 10)}: ${cpu}, ${availableParallelism()} cores, Node ${process.version}`);
const blasEnv = Object.entries(process.env).filter(([k]) => k.startsWith('OPENBLAS_')).map(([k, v]) => `${k}=${v}`).join(' ');
console.log(`environment (both sides): ${blasEnv || 'no OPENBLAS_* variables'}`);
const dir = arg('dir') ?? mkdtempSync(join(tmpdir(), 'isotropy-bench-'));
mkdirSync(dir, { recursive: true });
try {
  for (const d of DIMS) await benchFile(dir, ROWS, d);
  if (flag('big')) {
    const rows = Math.ceil(2 ** 32 / (768 * 4));
    const file = join(dir, `big_${rows}x768.npy`);
    console.log(`\n4 GiB: ${rows} x 768 float32`);
    await writeEmbeddings(file, rows, 768, 5);
    const r = runOurs(file, BACKENDS[0], 'full');
    console.log(`  ours ${fmt(r.seconds)} s, peak RSS ${(r.rssKb / 1024).toFixed(0)} MB`);
    rmSync(file, { force: true });
  }
  if (!flag('no-kernels')) for (const d of DIMS) await benchKernels(d);
} finally {
  if (!arg('dir')) rmSync(dir, { recursive: true, force: true });
}
