import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '../../src/extract/backend.ts';
import { Encoder, type Pooling } from '../../src/extract/encoder.ts';
import type { EncodeRequest, EncodeResult } from '../../src/extract/encode-request.ts';
import { NativeEncoder } from '../../src/extract/native-encoder.ts';
import { encoderKernelsUnavailableReason } from '../../src/extract/native-kernels.ts';
import { ExtractError, type Checkpoint, type TokenBatch } from '../../src/extract/types.ts';
import { loadCheckpoint } from '../../src/extract/checkpoint.ts';
import { erf, referenceForward, relMaxDiff } from './reference.ts';

const MODELS = fileURLToPath(new URL('../../fixtures/models/', import.meta.url));
const MODEL_NAMES = ['tiny-bert', 'tiny-roberta'] as const;

interface ExpectedBatch {
  name: string; batch: number; seq: number; ids: number[]; mask: number[]; typeIds: number[];
  cls: number[][][]; mean: number[][][]; pooler: number[][];
}
const expected = JSON.parse(readFileSync(MODELS + 'expected.json', 'utf8')) as {
  models: Record<string, { numLayers: number; hiddenSize: number; batches: ExpectedBatch[] }>;
};

const ckpts = new Map<string, Checkpoint>(await Promise.all(MODEL_NAMES.map(async (m) => [m, await loadCheckpoint(MODELS + m)] as const)));
const TOL = 1e-4;

function toBatch(e: ExpectedBatch): TokenBatch {
  return {
    ids: Int32Array.from(e.ids), mask: Int32Array.from(e.mask), typeIds: Int32Array.from(e.typeIds),
    batch: e.batch, seq: e.seq, truncated: 0,
  };
}

/** Row r of the real tokens of a padded batch, alone (no padding). */
function rowAlone(e: ExpectedBatch, r: number): TokenBatch {
  const n = e.mask.slice(r * e.seq, (r + 1) * e.seq).reduce((a, b) => a + b, 0);
  const pick = (a: number[]) => Int32Array.from(a.slice(r * e.seq, r * e.seq + n));
  return { ids: pick(e.ids), mask: pick(e.mask), typeIds: pick(e.typeIds), batch: 1, seq: n, truncated: 0 };
}

/** [batch][layer][d] slice of an encode() output. */
function vec(data: Float32Array, layers: number, d: number, row: number, layer: number): Float32Array {
  const off = (row * layers + layer) * d;
  return data.subarray(off, off + d);
}

const allLayers = (L: number) => Array.from({ length: L + 1 }, (_, i) => i);

/** The two encoder implementations behind one shape: tfjs's Encoder on a backend, or the native one. */
type Engine = BackendName;
interface AnyEncoder { encode(b: TokenBatch, r: EncodeRequest): Promise<EncodeResult>; dispose(): void; readonly maxSequence: number; readonly hasPooler: boolean }
async function makeEncoder(engine: Engine, ck: Checkpoint): Promise<AnyEncoder> {
  if (engine === 'native') return NativeEncoder.create(ck);
  assert.is(await initBackend(engine), engine);
  return Encoder.create(ck);
}
const nativeWhy = encoderKernelsUnavailableReason();
const ENGINES: Engine[] = nativeWhy === null ? ['cpu', 'wasm', 'native'] : ['cpu', 'wasm'];
if (nativeWhy !== null) console.log(`  (native encoder tests skipped: ${nativeWhy})`);

test('reference erf is accurate', () => {
  const known: Array<[number, number]> = [[0, 0], [0.5, 0.5204998778130465], [1, 0.8427007929497149],
    [-2, -0.9953222650189527], [2.7, 0.9998656672600594], [3.5, 0.9999992569016276]];
  for (const [x, y] of known) assert.ok(Math.abs(erf(x) - y) < 1e-15, `erf(${x}) = ${erf(x)}`);
});

for (const m of MODEL_NAMES) {
  test(`${m}: float64 JS reference equals numpy's expected.json`, () => {
    const ck = ckpts.get(m)!;
    for (const e of expected.models[m].batches) {
      const ref = referenceForward(ck, toBatch(e));
      for (let l = 0; l <= ck.config.numLayers; l++) {
        for (let r = 0; r < e.batch; r++) {
          assert.ok(relMaxDiff(ref.cls[l][r], e.cls[l][r]) < 1e-12, `${e.name} cls layer ${l} row ${r}`);
          assert.ok(relMaxDiff(ref.mean[l][r], e.mean[l][r]) < 1e-12, `${e.name} mean layer ${l} row ${r}`);
        }
      }
      for (let r = 0; r < e.batch; r++) assert.ok(relMaxDiff(ref.pooler![r], e.pooler[r]) < 1e-12, `${e.name} pooler row ${r}`);
    }
  });
}

for (const backend of ENGINES) {
  for (const m of MODEL_NAMES) {
    test(`${backend} ${m}: every layer, cls / mean / pooler match numpy and the JS reference`, async () => {
      const ck = ckpts.get(m)!;
      const L = ck.config.numLayers, d = ck.config.hiddenSize;
      const enc = await makeEncoder(backend, ck);
      try {
        for (const e of expected.models[m].batches) {
          const batch = toBatch(e);
          const res = await enc.encode(batch, { layers: allLayers(L), poolings: ['cls', 'pooler', 'mean'] });
          const ref = referenceForward(ck, batch);
          const cls = res.pooled.get('cls')!, mean = res.pooled.get('mean')!, pooler = res.pooled.get('pooler')!;
          assert.is(cls.layers, L + 1);
          assert.is(mean.layers, L + 1);
          assert.is(pooler.layers, 1);
          assert.is(cls.data.length, e.batch * (L + 1) * d);
          assert.is(pooler.data.length, e.batch * d);
          for (let r = 0; r < e.batch; r++) {
            for (let l = 0; l <= L; l++) {
              const at = `${e.name} row ${r} layer ${l}`;
              assert.ok(relMaxDiff(vec(cls.data, L + 1, d, r, l), e.cls[l][r]) < TOL, `cls vs numpy, ${at}`);
              assert.ok(relMaxDiff(vec(mean.data, L + 1, d, r, l), e.mean[l][r]) < TOL, `mean vs numpy, ${at}`);
              assert.ok(relMaxDiff(vec(cls.data, L + 1, d, r, l), ref.cls[l][r]) < TOL, `cls vs JS, ${at}`);
              assert.ok(relMaxDiff(vec(mean.data, L + 1, d, r, l), ref.mean[l][r]) < TOL, `mean vs JS, ${at}`);
            }
            assert.ok(relMaxDiff(vec(pooler.data, 1, d, r, 0), e.pooler[r]) < TOL, `pooler vs numpy, ${e.name} row ${r}`);
            assert.ok(relMaxDiff(vec(pooler.data, 1, d, r, 0), ref.pooler![r]) < TOL, `pooler vs JS, ${e.name} row ${r}`);
          }
        }
      } finally {
        enc.dispose();
      }
    });

    test(`${backend} ${m}: cls and pooler alone (last layer for the first token only) match numpy`, async () => {
      const ck = ckpts.get(m)!;
      const L = ck.config.numLayers, d = ck.config.hiddenSize;
      const enc = await makeEncoder(backend, ck);
      try {
        for (const e of expected.models[m].batches) {
          for (const req of [{ layers: [L], poolings: ['cls', 'pooler'] as Pooling[] }, { layers: [1, L], poolings: ['cls'] as Pooling[] }, { layers: [], poolings: ['pooler'] as Pooling[] }]) {
            const res = await enc.encode(toBatch(e), req);
            for (let r = 0; r < e.batch; r++) {
              const cls = res.pooled.get('cls');
              if (cls) req.layers.forEach((l, k) => assert.ok(relMaxDiff(vec(cls.data, req.layers.length, d, r, k), e.cls[l][r]) < TOL, `${e.name} cls layer ${l} row ${r}`));
              const pooler = res.pooled.get('pooler');
              if (pooler) assert.ok(relMaxDiff(vec(pooler.data, 1, d, r, 0), e.pooler[r]) < TOL, `${e.name} pooler row ${r}`);
            }
          }
        }
      } finally {
        enc.dispose();
      }
    });

    test(`${backend} ${m}: a padded row gives the same vectors as the sentence alone`, async () => {
      const ck = ckpts.get(m)!;
      const L = ck.config.numLayers, d = ck.config.hiddenSize;
      const enc = await makeEncoder(backend, ck);
      try {
        const e = expected.models[m].batches.find((b) => b.name === 'padded')!;
        const req = { layers: allLayers(L), poolings: ['cls', 'pooler', 'mean'] as Pooling[] };
        const all = await enc.encode(toBatch(e), req);
        for (let r = 0; r < e.batch; r++) {
          const alone = await enc.encode(rowAlone(e, r), req);
          for (const p of req.poolings) {
            const { data, layers } = all.pooled.get(p)!;
            const one = alone.pooled.get(p)!.data;
            assert.ok(relMaxDiff(data.subarray(r * layers * d, (r + 1) * layers * d), one) < 1e-5, `${p} row ${r}`);
          }
        }
      } finally {
        enc.dispose();
      }
    });
  }

  test(`${backend}: only the requested layers, in order; pooler ignores the layer list`, async () => {
    const ck = ckpts.get('tiny-bert')!;
    const d = ck.config.hiddenSize;
    const e = expected.models['tiny-bert'].batches.find((b) => b.name === 'pair')!;
    const enc = await makeEncoder(backend, ck);
    try {
      const res = await enc.encode(toBatch(e), { layers: [0, 1], poolings: ['mean', 'pooler'] });
      assert.equal([...res.pooled.keys()], ['mean', 'pooler']);
      const mean = res.pooled.get('mean')!;
      assert.is(mean.layers, 2);
      for (let r = 0; r < e.batch; r++) {
        for (const l of [0, 1]) assert.ok(relMaxDiff(vec(mean.data, 2, d, r, l), e.mean[l][r]) < TOL, `mean row ${r} layer ${l}`);
        assert.ok(relMaxDiff(vec(res.pooled.get('pooler')!.data, 1, d, r, 0), e.pooler[r]) < TOL);
      }
      const only = await enc.encode(toBatch(e), { layers: [2], poolings: ['cls'] });
      assert.is(only.pooled.get('cls')!.layers, 1);
      for (let r = 0; r < e.batch; r++) assert.ok(relMaxDiff(vec(only.pooled.get('cls')!.data, 1, d, r, 0), e.cls[2][r]) < TOL);
    } finally {
      enc.dispose();
    }
  });

  test(`${backend}: gelu_new and relu activations match the JS reference`, async () => {
    const base = ckpts.get('tiny-bert')!;
    const e = expected.models['tiny-bert'].batches.find((b) => b.name === 'padded')!;
    for (const act of ['gelu_new', 'relu'] as const) {
      const ck: Checkpoint = { ...base, config: { ...base.config, hiddenAct: act } };
      const L = ck.config.numLayers, d = ck.config.hiddenSize;
      const ref = referenceForward(ck, toBatch(e));
      const enc = await makeEncoder(backend, ck);
      try {
        const res = await enc.encode(toBatch(e), { layers: [L], poolings: ['cls', 'mean'] });
        for (let r = 0; r < e.batch; r++) {
          assert.ok(relMaxDiff(vec(res.pooled.get('cls')!.data, 1, d, r, 0), ref.cls[L][r]) < TOL, `${act} cls row ${r}`);
          assert.ok(relMaxDiff(vec(res.pooled.get('mean')!.data, 1, d, r, 0), ref.mean[L][r]) < TOL, `${act} mean row ${r}`);
        }
        // and it is not the exact-gelu answer, so the activation really switched
        assert.ok(relMaxDiff(vec(res.pooled.get('cls')!.data, 1, d, 0, 0), e.cls[L][0]) > 1e-4);
      } finally {
        enc.dispose();
      }
    }
  });

  if (backend !== 'native') test(`${backend}: device tensors do not grow across encode calls and are freed by dispose`, async () => {
    await initBackend(backend);
    const before = tf.memory().numTensors;
    const enc = Encoder.create(ckpts.get('tiny-roberta')!);
    const loaded = tf.memory().numTensors;
    assert.ok(loaded > before);
    const e = expected.models['tiny-roberta'].batches[0];
    for (let i = 0; i < 3; i++) {
      await enc.encode(toBatch(e), { layers: [0, 1, 2], poolings: ['cls', 'mean', 'pooler'] });
      assert.is(tf.memory().numTensors, loaded, `after call ${i + 1}`);
    }
    await assert_rejects(enc.encode(toBatch(e), { layers: [7], poolings: ['cls'] }));
    assert.is(tf.memory().numTensors, loaded, 'after a failed call');
    enc.dispose();
    assert.is(tf.memory().numTensors, before);
  });
}

async function assert_rejects(p: Promise<unknown>, match?: RegExp): Promise<ExtractError> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, ExtractError);
    if (match) assert.match((err as Error).message, match);
    return err as ExtractError;
  }
  assert.unreachable('expected an ExtractError');
  throw new Error('unreachable');
}

for (const engine of ENGINES.filter((e) => e !== 'wasm')) test(`${engine}: missing pooler weights: pooler pooling is an ExtractError, the others work`, async () => {
  const base = ckpts.get('tiny-bert')!;
  const ck: Checkpoint = { ...base, weights: { ...base.weights, poolerW: undefined, poolerB: undefined } };
  const enc = await makeEncoder(engine, ck);
  try {
    assert.is(enc.hasPooler, false);
    const e = expected.models['tiny-bert'].batches[0];
    await assert_rejects(enc.encode(toBatch(e), { layers: [2], poolings: ['cls', 'pooler'] }), /no pooler weights/);
    const res = await enc.encode(toBatch(e), { layers: [2], poolings: ['cls'] });
    assert.ok(relMaxDiff(res.pooled.get('cls')!.data.subarray(0, 32), e.cls[2][0]) < TOL);
  } finally {
    enc.dispose();
  }
});

for (const engine of ENGINES.filter((e) => e !== 'wasm')) test(`${engine}: bad requests and batches are ExtractErrors`, async () => {
  const bert = await makeEncoder(engine, ckpts.get('tiny-bert')!);
  const roberta = await makeEncoder(engine, ckpts.get('tiny-roberta')!);
  try {
    const e = expected.models['tiny-bert'].batches[0];
    const b = toBatch(e);
    await assert_rejects(bert.encode(b, { layers: [3], poolings: ['cls'] }), /layer 3 does not exist/);
    await assert_rejects(bert.encode(b, { layers: [-1], poolings: ['cls'] }), /layer -1/);
    await assert_rejects(bert.encode(b, { layers: [2, 1], poolings: ['cls'] }), /sorted and unique/);
    await assert_rejects(bert.encode(b, { layers: [1, 1], poolings: ['cls'] }), /sorted and unique/);
    await assert_rejects(bert.encode(b, { layers: [1], poolings: ['cls', 'cls'] }), /twice/);
    await assert_rejects(bert.encode(b, { layers: [1], poolings: ['max' as Pooling] }), /unknown pooling/);
    const oov = { ...b, ids: b.ids.map((v, i) => (i === 3 ? 10_000 : v)) };
    await assert_rejects(bert.encode(oov, { layers: [1], poolings: ['cls'] }), /outside the vocabulary/);
    await assert_rejects(bert.encode({ ...b, ids: b.ids.subarray(1) }, { layers: [1], poolings: ['cls'] }), /malformed/);
    // BERT takes 64 positions; RoBERTa's 66-entry table (padding_idx 1) takes 64 too
    assert.is(bert.maxSequence, 64);
    assert.is(roberta.maxSequence, 64);
    const long = (pad: number, T: number): TokenBatch => ({
      ids: new Int32Array(T).fill(pad + 4), mask: new Int32Array(T).fill(1), typeIds: new Int32Array(T), batch: 1, seq: T, truncated: 0,
    });
    await assert_rejects(roberta.encode(long(1, 65), { layers: [1], poolings: ['cls'] }), /longer than/);
    const ok = await roberta.encode(long(1, 64), { layers: [2], poolings: ['cls'] });
    assert.ok(ok.pooled.get('cls')!.data.every(Number.isFinite));
    const typed = { ...long(1, 8), typeIds: new Int32Array(8).fill(1) };
    await assert_rejects(roberta.encode(typed, { layers: [1], poolings: ['cls'] }), /type id 1/);
    const empty = await bert.encode({ ids: new Int32Array(0), mask: new Int32Array(0), typeIds: new Int32Array(0), batch: 0, seq: 0, truncated: 0 },
      { layers: [1, 2], poolings: ['mean', 'pooler'] });
    assert.is(empty.pooled.get('mean')!.data.length, 0);
    assert.is(empty.pooled.get('mean')!.layers, 2);
    assert.is(empty.pooled.get('pooler')!.layers, 1);
  } finally {
    bert.dispose();
    roberta.dispose();
  }
});

test('create checks weight shapes against the config', async () => {
  await initBackend('cpu');
  const before = tf.memory().numTensors;
  const base = ckpts.get('tiny-bert')!;
  const ck: Checkpoint = { ...base, config: { ...base.config, intermediateSize: 128 } };
  assert.throws(() => Encoder.create(ck), (err: unknown) => err instanceof ExtractError && /intermediate\.dense\.weight/.test((err as Error).message));
  assert.is(tf.memory().numTensors, before, 'partially uploaded weights are freed');
  const heads: Checkpoint = { ...base, config: { ...base.config, numHeads: 5 } };
  assert.throws(() => Encoder.create(heads), (err: unknown) => err instanceof ExtractError);
  if (nativeWhy === null) {
    assert.throws(() => NativeEncoder.create(ck), (err: unknown) => err instanceof ExtractError && /intermediate\.dense\.weight/.test((err as Error).message));
    assert.throws(() => NativeEncoder.create(heads), (err: unknown) => err instanceof ExtractError && /not a multiple of num_attention_heads/.test((err as Error).message));
    assert.throws(() => NativeEncoder.create(base, { threads: 0 }), (err: unknown) => err instanceof ExtractError && /threads/.test((err as Error).message));
  }
});

test('native and wasm agree on a longer batch (64 tokens, padding, several heads)', async () => {
  if (nativeWhy !== null) return;
  const ck = ckpts.get('tiny-roberta')!;
  const L = ck.config.numLayers;
  const B = 5, T = 64;
  const ids = new Int32Array(B * T).fill(1), mask = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    const n = T - 11 * b;
    for (let t = 0; t < n; t++) {
      ids[b * T + t] = t === 0 ? 0 : t === n - 1 ? 2 : 4 + ((b * 31 + t * 17) % 300);
      mask[b * T + t] = 1;
    }
  }
  const batch: TokenBatch = { ids, mask, typeIds: new Int32Array(B * T), batch: B, seq: T, truncated: 0 };
  const req = { layers: allLayers(L), poolings: ['cls', 'pooler', 'mean'] as Pooling[] };
  const native = NativeEncoder.create(ck);
  const wasm = await makeEncoder('wasm', ck);
  try {
    const [a, b] = [await native.encode(batch, req), await wasm.encode(batch, req)];
    const ref = referenceForward(ck, batch);
    for (const p of req.poolings) assert.ok(relMaxDiff(a.pooled.get(p)!.data, b.pooled.get(p)!.data) < 1e-5, p);
    for (let r = 0; r < B; r++) assert.ok(relMaxDiff(vec(a.pooled.get('cls')!.data, L + 1, ck.config.hiddenSize, r, L), ref.cls[L][r]) < TOL);
  } finally {
    native.dispose();
    wasm.dispose();
  }
});

test.run();
