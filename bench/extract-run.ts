/**
 * One engine of bench/extract.ts, run in its own process so that every engine gets the same
 * environment treatment: our encoder (`native` or a tfjs backend) on a random BERT-base-sized
 * model (12 layers, d 768, 12 heads, intermediate 3072, vocab 30522, 512 positions, exact GELU).
 *
 *   node --import tsx bench/extract-run.ts SPEC.json native|wasm|cpu|tensorflow
 *
 * SPEC.json is the one bench/extract_reference.py reads: {"threads", "poolings" (default ["cls"]),
 * "cases": [{"label", "batches": [[len, ...], ...], "repeats"}]}. Prints a first JSON line {"engine", "backend",
 * "threads", "detail"} and then one line per case {"label", "sentences", "tokens", "padded",
 * "seconds": [...], "cpuSeconds": [...]}: wall and process CPU time (all threads) of encoding every batch of the case (the spec's poolings
 * of the last layer), after a warm-up batch. With threads > 1 a tfjs backend runs one worker per thread (what `isotropy extract`
 * does); native runs in this thread with that many OpenBLAS threads. Batches are generated from
 * the lengths with a fixed seed, [CLS] ... [SEP] around random ids, padded to the longest.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { mulberry32 as prng } from '../src/analyze/sample.ts';
import { initBackend, type BackendName } from '../src/extract/backend.ts';
import type { EncodeRequest, Pooling } from '../src/extract/encode-request.ts';
import { defaultThreads, openEncoder } from '../src/extract/runtime.ts';
import type { Checkpoint, EncoderConfig, HostTensor, LayerWeights, TokenBatch } from '../src/extract/types.ts';

export const BERT_BASE: EncoderConfig = {
  modelType: 'bert', hiddenSize: 768, numLayers: 12, numHeads: 12, intermediateSize: 3072,
  hiddenAct: 'gelu', layerNormEps: 1e-12, maxPositions: 512, typeVocabSize: 2, vocabSize: 30522, padTokenId: 0,
};

/** Uniform in [-s, s) around offset: the values do not matter for speed, only that they stay finite and small. */
function randomTensor(shape: number[], rand: () => number, s = 0.05, offset = 0): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = offset + (rand() * 2 - 1) * s;
  return { data, shape };
}

/** A random checkpoint with `config`'s sizes; all layers share one set of host weights (the encoders copy or upload them per layer anyway). */
export function randomCheckpoint(config: EncoderConfig = BERT_BASE): Checkpoint {
  const rand = prng(42);
  const d = config.hiddenSize, f = config.intermediateSize;
  const lin = (o: number, i: number) => randomTensor([o, i], rand);
  const v = (n: number) => randomTensor([n], rand);
  const ln = () => randomTensor([d], rand, 0.05, 1);
  const layer: LayerWeights = {
    queryW: lin(d, d), queryB: v(d), keyW: lin(d, d), keyB: v(d), valueW: lin(d, d), valueB: v(d),
    attnOutW: lin(d, d), attnOutB: v(d), attnLnG: ln(), attnLnB: v(d),
    interW: lin(f, d), interB: v(f), outW: lin(d, f), outB: v(d), outLnG: ln(), outLnB: v(d),
  };
  return {
    folder: '(random bert-base)',
    config,
    weights: {
      wordEmb: randomTensor([config.vocabSize, d], rand, 0.5),
      posEmb: randomTensor([config.maxPositions, d], rand, 0.5),
      typeEmb: randomTensor([config.typeVocabSize, d], rand, 0.5),
      embLnG: ln(), embLnB: v(d),
      layers: Array.from({ length: config.numLayers }, () => layer),
      poolerW: lin(d, d), poolerB: v(d),
    },
    dtypes: ['F32'],
  };
}

/** A right-padded batch of random ids ([CLS] ... [SEP]) with the given real lengths. */
export function makeBatch(lengths: number[], rand: () => number): TokenBatch {
  const B = lengths.length, T = Math.max(...lengths);
  const ids = new Int32Array(B * T), mask = new Int32Array(B * T);
  lengths.forEach((n, b) => {
    for (let t = 0; t < n; t++) {
      ids[b * T + t] = t === 0 ? 101 : t === n - 1 ? 102 : 1000 + Math.floor(rand() * 29000);
      mask[b * T + t] = 1;
    }
  });
  return { ids, mask, typeIds: new Int32Array(B * T), batch: B, seq: T, truncated: 0 };
}

interface Spec { threads?: number; poolings?: Pooling[]; cases: Array<{ label: string; batches: number[][]; repeats?: number }> }

async function main(): Promise<void> {
  const [specPath, engine] = process.argv.slice(2);
  const spec = JSON.parse(readFileSync(specPath, 'utf8')) as Spec;
  const backend = await initBackend(engine as BackendName);
  const threads = spec.threads ?? defaultThreads(backend);
  const enc = await openEncoder(randomCheckpoint(), backend, threads);
  let detail = '';
  if (backend === 'native') {
    const { loadEncoderKernels } = await import('../src/extract/native-kernels.ts');
    detail = loadEncoderKernels()!.info();
  }
  console.log(JSON.stringify({ engine: 'ours', backend, threads, detail }));
  const rand = prng(7);
  const req: EncodeRequest = { layers: [BERT_BASE.numLayers], poolings: spec.poolings ?? ['cls'] };
  try {
    // warm-up, one small batch per thread: wasm builds its XNNPACK operators on first use
    await Promise.all(Array.from({ length: backend === 'native' ? 1 : threads }, () => enc.encode(makeBatch([16, 16], rand), req)));
    for (const c of spec.cases) {
      const batches = c.batches.map((l) => makeBatch(l, rand));
      const seconds: number[] = [];
      const cpuSeconds: number[] = [];
      for (let r = 0; r < (c.repeats ?? 1); r++) {
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        // all batches in flight at once, as extract() does within a window: a pool keeps every thread busy
        await Promise.all(batches.map((b) => enc.encode(b, req)));
        seconds.push((performance.now() - t0) / 1000);
        const cu = process.cpuUsage(c0);
        cpuSeconds.push((cu.user + cu.system) / 1e6);
      }
      console.log(JSON.stringify({
        label: c.label,
        sentences: c.batches.reduce((a, b) => a + b.length, 0),
        tokens: c.batches.reduce((a, b) => a + b.reduce((s, n) => s + n, 0), 0),
        padded: c.batches.reduce((a, b) => a + b.length * Math.max(...b), 0),
        seconds,
        cpuSeconds,
      }));
    }
  } finally {
    await enc.dispose();
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) await main();
