import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadCheckpoint } from '../../src/extract/checkpoint.ts';
import { initBackend } from '../../src/extract/backend.ts';
import { openEncoder } from '../../src/extract/runtime.ts';
import { EncoderPool } from '../../src/extract/pool.ts';
import { loadTokenizer } from '../../src/extract/tokenizer.ts';
import { ExtractError } from '../../src/extract/types.ts';

const BERT = 'fixtures/models/tiny-bert';
const sentences = ['the cat sat on the mat .', 'hello , world !', 'a', 'the the the cat'];

test('a pool of worker threads gives exactly the in-process encoder\'s vectors, whatever thread runs a batch', async () => {
  const ckpt = await loadCheckpoint(BERT);
  const tok = await loadTokenizer(BERT, 'bert');
  const req = { layers: [0, 2], poolings: ['cls', 'mean', 'pooler'] as const };
  const batches = sentences.map((s) => tok.encodeBatch([s, 'hello'], undefined, 32));
  await initBackend('wasm');
  const one = await openEncoder(ckpt, 'wasm', 1);
  const pool = await openEncoder(ckpt, 'wasm', 2);
  assert.instance(pool, EncoderPool);
  try {
    const [a, b] = await Promise.all([
      Promise.all(batches.map((x) => one.encode(x, { ...req, poolings: [...req.poolings] }))),
      Promise.all(batches.map((x) => pool.encode(x, { ...req, poolings: [...req.poolings] }))),
    ]);
    a.forEach((r, k) => {
      for (const p of req.poolings) assert.equal(Array.from(b[k].pooled.get(p)!.data), Array.from(r.pooled.get(p)!.data), `${p} batch ${k}`);
    });
  } finally {
    await one.dispose();
    await pool.dispose();
  }
});

test('an encoder error inside a thread comes back as the same ExtractError; the pool keeps working', async () => {
  const ckpt = await loadCheckpoint(BERT);
  const pool = await openEncoder(ckpt, 'wasm', 2);
  try {
    const bad = { ids: Int32Array.from([2, 99999, 3]), mask: Int32Array.from([1, 1, 1]), typeIds: new Int32Array(3), batch: 1, seq: 3, truncated: 0 };
    try {
      await pool.encode(bad, { layers: [2], poolings: ['cls'] });
      assert.unreachable();
    } catch (e) {
      assert.ok(e instanceof ExtractError, String(e));
    }
    const ok = { ids: Int32Array.from([2, 5, 3]), mask: Int32Array.from([1, 1, 1]), typeIds: new Int32Array(3), batch: 1, seq: 3, truncated: 0 };
    const r = await pool.encode(ok, { layers: [2], poolings: ['cls'] });
    assert.is(r.pooled.get('cls')!.data.length, 32);
  } finally {
    await pool.dispose();
  }
});

test.run();
