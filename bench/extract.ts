/**
 * Encoder throughput, ours against PyTorch, side by side: a random BERT-base-sized model (12
 * layers, d 768, 12 heads, FFN 3072), batch 32, the same padded batches for every engine.
 *
 *   node --import tsx bench/extract.ts                      # native + wasm + torch, 3 alternating runs
 *   node --import tsx bench/extract.ts --engines native,torch --runs 5
 *   node --import tsx bench/extract.ts --blas-env default   # OpenBLAS picks its own kernels for everyone
 *
 * Options: --engines (native, wasm, cpu, tensorflow = our backends; torch = bench/extract_reference.py),
 * --runs R (alternating rounds; the engine order rotates every round), --threads N (default 2:
 * OpenBLAS threads for native and torch, torch.set_num_threads, worker threads for wasm),
 * --python PATH (default /usr/bin/python3, Debian's python3-torch), --blas-env as-is|default,
 * --pooling P[,P] (what ours returns, default cls as `isotropy extract`; without mean our last
 * layer runs for the first token only; the torch model always computes BertModel's full output,
 * as transformers does, and pools cls, pooler and mean).
 *
 * Cases: `seq=128`: 2 batches of 32 sentences of 128 tokens; `seq=32`: 4 batches of 32 x 32.
 * Every engine runs in its own process (bench/extract-run.ts for ours), so all get the same
 * environment: with --blas-env default, OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from
 * every child's environment (OpenBLAS then picks its kernels from the CPU); as-is (the default)
 * passes the environment unchanged. Times are measured inside each process around the forward
 * passes only (model set-up and a warm-up batch excluded). The summary gives each engine's median
 * sentences/s per case, and ours/torch per round (paired: same round, adjacent in time) and of
 * the medians.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const ENGINES = (arg('engines') ?? 'native,torch,wasm').split(',');
const RUNS = Number(arg('runs') ?? 3);
const THREADS = Number(arg('threads') ?? 2);
const PYTHON = arg('python') ?? '/usr/bin/python3';
const BLAS_ENV = arg('blas-env') ?? 'as-is';
const POOLINGS = (arg('pooling') ?? 'cls').split(',');
if (!['as-is', 'default'].includes(BLAS_ENV)) throw new Error('--blas-env is as-is or default');

const CASES = [
  { label: 'seq=128', batches: Array.from({ length: 2 }, () => Array<number>(32).fill(128)) },
  { label: 'seq=32', batches: Array.from({ length: 4 }, () => Array<number>(32).fill(32)) },
];

interface CaseResult { label: string; sentences: number; tokens: number; padded: number; seconds: number[]; cpuSeconds: number[] }
interface EngineRun { header: Record<string, unknown>; cases: CaseResult[] }

function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  if (BLAS_ENV === 'default') for (const k of ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE']) delete env[k];
  return env;
}

function runEngine(engine: string, specPath: string): EngineRun | string {
  const [cmd, args] = engine === 'torch'
    ? [PYTHON, [join(ROOT, 'bench/extract_reference.py'), specPath]]
    : [process.execPath, ['--import', 'tsx', join(ROOT, 'bench/extract-run.ts'), specPath, engine]];
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', env: childEnv(), maxBuffer: 1 << 24 });
  if (r.status !== 0) return `${engine} failed (exit ${r.status ?? r.signal}): ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' | ')}`;
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  return { header: lines[0], cases: lines.slice(1) as unknown as CaseResult[] };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const rate = (c: CaseResult) => c.sentences / c.seconds[0];
/** Sentences per CPU-second (all threads of the engine's process): less sensitive to other load than wall time. */
const cpuRate = (c: CaseResult) => c.sentences / c.cpuSeconds[0];

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'isotropy-bench-extract-'));
  try {
    const spec = join(dir, 'spec.json');
    writeFileSync(spec, JSON.stringify({ threads: THREADS, poolings: POOLINGS, cases: CASES }));
    console.log(`extract bench: random bert-base, batch 32, ${THREADS} thread(s), ${RUNS} round(s), engines ${ENGINES.join(', ')}, ours pooling ${POOLINGS.join(',')}, ` +
      `blas env ${BLAS_ENV} (OPENBLAS_CORETYPE=${childEnv().OPENBLAS_CORETYPE ?? 'unset'}), ${cpus().length} cpu(s) ${cpus()[0]?.model ?? ''}`);
    const rates = new Map<string, Map<string, number[]>>(ENGINES.map((e) => [e, new Map(CASES.map((c) => [c.label, []]))]));
    const cpuRates = new Map<string, Map<string, number[]>>(ENGINES.map((e) => [e, new Map(CASES.map((c) => [c.label, []]))]));
    const dead = new Set<string>();
    for (let round = 0; round < RUNS; round++) {
      const order = ENGINES.map((_, i) => ENGINES[(i + round) % ENGINES.length]);
      for (const engine of order) {
        if (dead.has(engine)) continue;
        const r = runEngine(engine, spec);
        if (typeof r === 'string') {
          console.log(`  ${r}; dropped`);
          dead.add(engine);
          continue;
        }
        if (round === 0) console.log(`  ${engine}: ${JSON.stringify(r.header)}`);
        const parts = r.cases.map((c) => {
          rates.get(engine)!.get(c.label)!.push(rate(c));
          cpuRates.get(engine)!.get(c.label)!.push(cpuRate(c));
          return `${c.label} ${rate(c).toFixed(2)} sentences/s (${c.sentences} in ${c.seconds[0].toFixed(2)} s, cpu ${c.cpuSeconds[0].toFixed(1)} s)`;
        });
        console.log(`  round ${round + 1} ${engine}: ${parts.join(', ')}`);
      }
    }
    console.log('summary (median sentences/s over the rounds):');
    const ours = ENGINES.filter((e) => e !== 'torch' && !dead.has(e));
    for (const c of CASES) {
      const torch = rates.get('torch')?.get(c.label) ?? [];
      for (const e of ENGINES.filter((x) => !dead.has(x))) {
        const xs = rates.get(e)!.get(c.label)!;
        let line = `extract bert-base ${c.label} batch=32 threads=${THREADS} ${e}: ${median(xs).toFixed(2)} sentences/s ` +
          `(rounds: ${xs.map((x) => x.toFixed(2)).join(' ')})`;
        if (ours.includes(e) && torch.length === xs.length && torch.length > 0) {
          const paired = xs.map((x, i) => x / torch[i]);
          line += `; ours/torch ${(median(xs) / median(torch)).toFixed(2)}x (per round: ${paired.map((p) => p.toFixed(2)).join(' ')})`;
        }
        console.log(line);
      }
    }
    console.log('per CPU-second (median sentences per second of process CPU time, all threads; spinning BLAS threads count too):');
    for (const c of CASES) {
      const torch = cpuRates.get('torch')?.get(c.label) ?? [];
      const parts = ENGINES.filter((x) => !dead.has(x)).map((e) => {
        const xs = cpuRates.get(e)!.get(c.label)!;
        const vs = ours.includes(e) && torch.length ? ` (${(median(xs) / median(torch)).toFixed(2)}x torch)` : '';
        return `${e} ${median(xs).toFixed(2)}${vs}`;
      });
      console.log(`  ${c.label}: ${parts.join(', ')}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
