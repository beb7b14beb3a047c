/**
 * Encoder throughput on a random BERT-base-sized model (12 layers, d 768, 12 heads, intermediate
 * 3072, vocab 30522, 512 positions), per tfjs backend available here.
 *
 *   node --import tsx bench/extract.ts              # wasm (+ tensorflow if tfjs-node loads) + a tiny cpu run
 *   node --import tsx bench/extract.ts wasm         # only the named backends
 *
 * Cases: 32 random sequences of 128 tokens; 32 "realistic" sentences (lengths 8..64, mean about
 * 24 tokens) padded to the longest of each batch, in input order and sorted by length (what a
 * length-bucketing extractor would do). The cpu backend (plain JS kernels, about 30x slower than
 * wasm) only gets a tiny case, so the whole run stays under 2 minutes.
 *
 * Cost model: about 170 MFLOP per token (2 x 85M encoder parameters) plus attention, i.e. 700
 * GFLOP per 32 x 128 batch. The wasm backend runs XNNPACK's single-threaded SIMD matMul (~27
 * GFLOP/s here), so BERT-base gives ~1 sentence/s at 128 tokens. tfjs-node would run the same
 * graph on native TensorFlow kernels (oneDNN, multi-threaded, AVX2/AVX-512): expect roughly the
 * machine's core count times more, tens of sentences per second on a desktop.
 */
import { performance } from 'node:perf_hooks';
import { initBackend, type BackendName } from '../src/extract/backend.ts';
import { Encoder, type EncodeRequest, type EncodeResult } from '../src/extract/encoder.ts';
import { openEncoder, defaultThreads } from '../src/extract/runtime.ts';
import type { Checkpoint, EncoderConfig, HostTensor, LayerWeights, TokenBatch } from '../src/extract/types.ts';
import { mulberry32 as prng } from '../src/analyze/sample.ts';

const CONFIG: EncoderConfig = {
  modelType: 'bert', hiddenSize: 768, numLayers: 12, numHeads: 12, intermediateSize: 3072,
  hiddenAct: 'gelu', layerNormEps: 1e-12, maxPositions: 512, typeVocabSize: 2, vocabSize: 30522, padTokenId: 0,
};

/** Uniform in [-s, s): the values do not matter for speed, only that they stay finite and small. */
function randomTensor(shape: number[], rand: () => number, s = 0.05, offset = 0): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = offset + (rand() * 2 - 1) * s;
  return { data, shape };
}

function randomCheckpoint(): Checkpoint {
  const rand = prng(42);
  const d = CONFIG.hiddenSize, f = CONFIG.intermediateSize;
  const lin = (o: number, i: number) => randomTensor([o, i], rand);
  const v = (n: number) => randomTensor([n], rand);
  const ln = () => randomTensor([d], rand, 0.05, 1);
  // one set of layer weights shared by all 12 layers on the host (the encoder still uploads 12
  // copies): saves a few seconds of random numbers and 300 MB of host memory
  const layer: LayerWeights = {
    queryW: lin(d, d), queryB: v(d), keyW: lin(d, d), keyB: v(d), valueW: lin(d, d), valueB: v(d),
    attnOutW: lin(d, d), attnOutB: v(d), attnLnG: ln(), attnLnB: v(d),
    interW: lin(f, d), interB: v(f), outW: lin(d, f), outB: v(d), outLnG: ln(), outLnB: v(d),
  };
  return {
    folder: '(random bert-base)',
    config: CONFIG,
    weights: {
      wordEmb: randomTensor([CONFIG.vocabSize, d], rand, 0.5),
      posEmb: randomTensor([CONFIG.maxPositions, d], rand, 0.5),
      typeEmb: randomTensor([CONFIG.typeVocabSize, d], rand, 0.5),
      embLnG: ln(), embLnB: v(d),
      layers: Array.from({ length: CONFIG.numLayers }, () => layer),
      poolerW: lin(d, d), poolerB: v(d),
    },
    dtypes: ['F32'],
  };
}

/** A right-padded batch of random ids ([CLS] ... [SEP]) with the given real lengths. */
function makeBatch(lengths: number[], rand: () => number): TokenBatch {
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

/** Sentence lengths in tokens: 8..64, skewed, mean about 24 (a typical English sentence in WordPiece). */
function realisticLengths(n: number, rand: () => number): number[] {
  return Array.from({ length: n }, () => {
    const u = Math.max(rand(), 1e-9);
    return Math.min(64, Math.max(8, Math.round(8 + 16 * -Math.log(u))));
  });
}

/** Runs the batches; a thread pool gets them all at once, an in-process encoder one by one. */
async function run(enc: { encode(b: TokenBatch, r: EncodeRequest): Promise<EncodeResult> }, label: string, batches: TokenBatch[], concurrent = false): Promise<void> {
  const sentences = batches.reduce((a, b) => a + b.batch, 0);
  const real = batches.reduce((a, b) => a + b.mask.reduce((s, m) => s + m, 0), 0);
  const padded = batches.reduce((a, b) => a + b.batch * b.seq, 0);
  const req: EncodeRequest = { layers: [CONFIG.numLayers], poolings: ['cls', 'pooler', 'mean'] };
  const t0 = performance.now();
  if (concurrent) await Promise.all(batches.map((b) => enc.encode(b, req)));
  else for (const b of batches) await enc.encode(b, req);
  const s = (performance.now() - t0) / 1000;
  console.log(`${label}: ${(sentences / s).toFixed(2)} sentences/s ` +
    `(${sentences} sentences, ${real} tokens, ${padded} with padding, ${s.toFixed(1)} s)`);
}

async function main(): Promise<void> {
  const asked = process.argv.slice(2) as BackendName[];
  const t0 = performance.now();
  const ckpt = randomCheckpoint();
  console.log(`random bert-base built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const rand = prng(7);
  const lengths = realisticLengths(64, rand);
  const realistic = [lengths.slice(0, 32), lengths.slice(32)];
  const sorted = [...lengths].sort((a, b) => a - b);
  const bucketed = [sorted.slice(0, 32), sorted.slice(32)];
  const mean = lengths.reduce((a, b) => a + b, 0) / lengths.length;

  let backends: BackendName[] = asked;
  if (backends.length === 0) {
    backends = ['wasm', 'cpu'];
    try {
      await initBackend('tensorflow');
      backends.unshift('tensorflow');
    } catch {
      console.log('tfjs-node not available: no tensorflow backend');
    }
  }
  for (const backend of backends) {
    try {
      await initBackend(backend);
    } catch (err) {
      console.log(`backend=${backend}: ${(err as Error).message}`);
      continue;
    }
    const tl = performance.now();
    const enc = Encoder.create(ckpt);
    console.log(`backend=${backend}: weights uploaded in ${((performance.now() - tl) / 1000).toFixed(1)} s`);
    try {
      if (backend === 'cpu') {
        // no warm-up: the cpu kernels need none, and one would cost as much as the run
        await run(enc, `extract bert-base seq=32 batch=2 backend=${backend}`, [makeBatch([32, 32], rand)]);
        continue;
      }
      // warm-up: wasm creates and caches an XNNPACK operator per weight matrix on first use
      await enc.encode(makeBatch([16, 16], rand), { layers: [12], poolings: ['cls'] });
      await run(enc, `extract bert-base seq=128 batch=32 backend=${backend}`, [makeBatch(Array(32).fill(128), rand)]);
      await run(enc, `extract bert-base seq=~${mean.toFixed(0)} (8..64, padded per batch) batch=32 backend=${backend}`,
        realistic.map((l) => makeBatch(l, rand)));
      await run(enc, `extract bert-base seq=~${mean.toFixed(0)} (sorted by length) batch=32 backend=${backend}`,
        bucketed.map((l) => makeBatch(l, rand)));
    } finally {
      enc.dispose();
    }
    const threads = defaultThreads(backend);
    if (backend === 'cpu' || threads < 2) continue;
    // One backend per worker thread (tfjs-wasm is single-threaded under Node): what `isotropy
    // extract` does by default. Each thread warms up on its first batch, so it gets a small one.
    const tp = performance.now();
    const pool = await openEncoder(ckpt, backend, threads);
    console.log(`backend=${backend} x${threads} threads: started in ${((performance.now() - tp) / 1000).toFixed(1)} s`);
    try {
      await Promise.all(Array.from({ length: threads }, () => pool.encode(makeBatch([16, 16], rand), { layers: [12], poolings: ['cls'] })));
      await run(pool, `extract bert-base seq=128 batch=32 backend=${backend} threads=${threads}`,
        Array.from({ length: threads }, () => makeBatch(Array(32).fill(128), rand)), true);
      await run(pool, `extract bert-base seq=~${mean.toFixed(0)} (sorted by length) batch=32 backend=${backend} threads=${threads}`,
        bucketed.map((l) => makeBatch(l, rand)), true);
    } finally {
      await pool.dispose();
    }
  }
}

await main();
