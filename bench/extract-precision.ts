/**
 * How much the float32 encoders move the analysis: the fixture checkpoints (tiny BERT and RoBERTa,
 * fixtures/models) encode the same 600 random token sequences with our float32 encoders (native,
 * wasm) and with the float64 loop reference (test/extract/reference.ts); `analyze` (isobn) then
 * runs on each set of vectors, and every metric of the float32 sets is compared with the float64
 * set's: the largest relative difference per metric, over the three poolings (last-layer cls,
 * mean, pooler) and both models.
 *
 *   node --import tsx bench/extract-precision.ts
 *
 * Relative differences use max(|float64 value|, 1e-12) as the scale (eigenvalues: the largest
 * eigenvalue); for I(W), whose values can be tiny, the log is compared instead (the metric is a
 * ratio of partition functions). `float64 rounded` is the floor every float32 output has: the
 * float64 vectors merely rounded to float32, as an .npy of float32 stores them.
 */
import { mulberry32 as prng } from '../src/analyze/sample.ts';
import { analyze, matrixSource } from '../src/index.ts';
import { initBackend } from '../src/extract/backend.ts';
import type { Pooling } from '../src/extract/encode-request.ts';
import { loadCheckpoint } from '../src/extract/checkpoint.ts';
import { openEncoder } from '../src/extract/runtime.ts';
import type { TokenBatch } from '../src/extract/types.ts';
import { referenceForward } from '../test/extract/reference.ts';

const N = 600;
const POOLINGS: Pooling[] = ['cls', 'mean', 'pooler'];

function batches(vocab: number, special: [number, number], pad: number, maxLen: number): TokenBatch[] {
  const rand = prng(11);
  const out: TokenBatch[] = [];
  for (let s = 0; s < N; s += 30) {
    const lengths = Array.from({ length: 30 }, () => 4 + Math.floor(rand() * (maxLen - 4)));
    const T = Math.max(...lengths), B = lengths.length;
    const ids = new Int32Array(B * T).fill(pad), mask = new Int32Array(B * T);
    lengths.forEach((n, b) => {
      for (let t = 0; t < n; t++) {
        ids[b * T + t] = t === 0 ? special[0] : t === n - 1 ? special[1] : 5 + Math.floor(rand() * (vocab - 5));
        mask[b * T + t] = 1;
      }
    });
    out.push({ ids, mask, typeIds: new Int32Array(B * T), batch: B, seq: T, truncated: 0 });
  }
  return out;
}

/** Every numeric leaf of a JSON value, by path (array indices kept). */
function leaves(v: unknown, path = '', out = new Map<string, number>()): Map<string, number> {
  if (typeof v === 'number') out.set(path, v);
  else if (Array.isArray(v)) v.forEach((x, i) => leaves(x, `${path}[${i}]`, out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) leaves(x, path ? `${path}.${k}` : k, out);
  return out;
}

async function metrics(rows: Float64Array | Float32Array, d: number): Promise<Map<string, number>> {
  const a = await analyze([matrixSource(rows, rows.length / d, d)], { transforms: 'isobn', diagnostics: false, backend: 'js' });
  return leaves(a.results);
}

async function main(): Promise<void> {
  const worst = new Map<string, { rel: number; where: string }>();
  for (const name of ['tiny-bert', 'tiny-roberta']) {
    const ck = await loadCheckpoint(new URL(`../fixtures/models/${name}/`, import.meta.url).pathname);
    const c = ck.config;
    const d = c.hiddenSize, L = c.numLayers;
    const bs = c.modelType === 'bert' ? batches(c.vocabSize, [2, 3], 0, 60) : batches(c.vocabSize, [0, 2], 1, 60);
    const f64 = new Map(POOLINGS.map((p) => [p, new Float64Array(N * d)]));
    let row = 0;
    for (const b of bs) {
      const ref = referenceForward(ck, b);
      for (let r = 0; r < b.batch; r++, row++) {
        f64.get('cls')!.set(ref.cls[L][r], row * d);
        f64.get('mean')!.set(ref.mean[L][r], row * d);
        f64.get('pooler')!.set(ref.pooler![r], row * d);
      }
    }
    const want = new Map<Pooling, Map<string, number>>();
    for (const p of POOLINGS) want.set(p, await metrics(f64.get(p)!, d));
    for (const backend of ['native', 'wasm', 'float64 rounded'] as const) {
      const f32 = new Map(POOLINGS.map((p) => [p, Float32Array.from(f64.get(p)!)]));
      if (backend !== 'float64 rounded') {
        await initBackend(backend);
        const enc = await openEncoder(ck, backend, 1);
        let at = 0;
        for (const b of bs) {
          const res = await enc.encode(b, { layers: [L], poolings: POOLINGS });
          for (const p of POOLINGS) f32.get(p)!.set(res.pooled.get(p)!.data, at * d);
          at += b.batch;
        }
        await enc.dispose();
      }
      for (const p of POOLINGS) {
        const got = await metrics(f32.get(p)!, d);
        for (const [path, w] of want.get(p)!) {
          const g = got.get(path);
          if (g === undefined || !Number.isFinite(w)) continue;
          const key = path.replace(/\[\d+\]/g, '[]').replace(/^\[\]\./, '');
          const isIW = /partitionIsotropy/.test(path);
          // eigenvalues relative to the largest, as bench/analyze.ts compares them
          const eig = /spectrum\.eigenvalues\[/.test(path) ? Math.abs(want.get(p)!.get(path.replace(/eigenvalues\[\d+\]/, 'eigenvalues[0]'))!) : 0;
          const rel = isIW ? Math.abs(Math.log(g) - Math.log(w)) : Math.abs(g - w) / Math.max(Math.abs(w), eig, 1e-12);
          const prev = worst.get(`${backend} ${key}`);
          if (!prev || rel > prev.rel) worst.set(`${backend} ${key}`, { rel, where: `${name} ${p}` });
        }
      }
    }
  }
  console.log(`float32 encoders against the float64 reference: analyze (isobn) on ${N} vectors per model and pooling; largest relative difference per metric`);
  const keys = [...new Set([...worst.keys()].map((k) => k.replace(/^(native|wasm|float64 rounded) /, '')))];
  const rows = keys.map((k) => ({ k, v: ['native', 'wasm', 'float64 rounded'].map((e) => worst.get(`${e} ${k}`)) }))
    .filter((r) => r.v.some((x) => x && x.rel > 0)).sort((a, b) => (b.v[0]?.rel ?? 0) - (a.v[0]?.rel ?? 0));
  console.log('  metric: native / wasm / float64 rounded to float32');
  for (const r of rows) console.log(`  ${r.k}: ${r.v.map((x) => (x ? x.rel.toExponential(1) : '-')).join(' / ')}`);
}

await main();
