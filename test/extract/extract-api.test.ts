// extract() in this process: outputs checked before any work and never written over an input,
// NaN/Inf vectors refused or dropped and counted, identical rows flagged.
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { extract, type ExtractOptions } from '../../src/extract/extract.js';
import { ExtractError } from '../../src/extract/types.js';
import { readEmbeddings } from '../../src/io/index.js';
import { rejects, tempDir, writeSafetensors, writeTinyModel, tinyModelShapes, type WriteTensor } from './st-helpers.js';

const tmp = tempDir('extract-api');
test.after(() => tmp.cleanup());
let counter = 0;
const fresh = (name: string) => {
  const dir = tmp.path(`${name}-${counter++}`);
  mkdirSync(dir);
  return dir;
};

/** A tiny BERT (vocab.txt tokenizer: 'z' is id 30) whose weights are edited before saving. */
function bertWith(edit?: (w: Record<string, Float32Array>) => void): string {
  const m = writeTinyModel(fresh('bert'), { modelType: 'bert' });
  if (edit !== undefined) {
    edit(m.weights);
    const shapes = new Map(tinyModelShapes({ layers: 2, hidden: 32, intermediate: 64, vocab: 100, maxPos: 40, typeVocab: 2, pooler: true }));
    const tensors: Record<string, WriteTensor> = {};
    for (const [name, data] of Object.entries(m.weights)) tensors[name] = { dtype: 'F32', shape: shapes.get(name)!, data };
    writeSafetensors(join(m.dir, 'model.safetensors'), tensors);
  }
  return m.dir;
}

/**
 * Finite weights that overflow on some inputs: the embeddings of 'z' and of position 1 are both
 * 3.4e38 in one dimension, so their sum is Inf (and LayerNorm makes it NaN) exactly when 'z' is
 * the first word of a sentence.
 */
const overflowing = bertWith((w) => {
  w['embeddings.word_embeddings.weight'][30 * 32] = 3.4e38;
  w['embeddings.position_embeddings.weight'][1 * 32] = 3.4e38;
});
const plain = bertWith();

function sentences(lines: string[]): string {
  const p = join(fresh('in'), 'sentences.txt');
  writeFileSync(p, lines.join('\n') + '\n');
  return p;
}

async function run(opts: Partial<ExtractOptions> & { model: string; input: string; out: string }) {
  const warnings: string[] = [];
  const meta = await extract({ backend: 'cpu', threads: 1, maxLength: 16, ...opts, onWarning: (m) => warnings.push(m) });
  return { meta, warnings };
}

test('vectors holding NaN or Inf are an error naming the sentence, and nothing is written', async () => {
  const input = sentences(['a b', 'z a', 'c', 'z']);
  const dir = fresh('out');
  const err = await rejects(
    run({ model: overflowing, input, out: join(dir, 'e.npy') }),
    `${input}: the vectors of sentence 2 of 4 ("z a") hold NaN or Inf`,
    '--drop-nonfinite (API: dropNonfinite)',
  );
  assert.instance(err, ExtractError);
  assert.equal(readdirSync(dir), []);
});

test('dropNonfinite leaves such sentences out of every output, counted in the sidecar and a warning', async () => {
  const input = sentences(['a b', 'z a', 'c', 'z']);
  const dir = fresh('out');
  const { meta, warnings } = await run({ model: overflowing, input, out: join(dir, 'e.npy'), dropNonfinite: true, poolings: ['cls', 'mean'], layers: 'all' });
  assert.is(meta.droppedNonfinite, 2);
  assert.equal(meta.droppedRows, [1, 3]);
  assert.is(meta.sentences, 4);
  assert.equal(meta.outputs.map((o) => o.shape), [[2, 3, 32], [2, 3, 32]]);
  assert.ok(warnings.some((w) => w.startsWith('dropped 2 of 4 sentence(s) whose vectors hold NaN or Inf') && w.includes(join(dir, 'e.json'))), warnings.join('\n'));
  const sidecar = JSON.parse(readFileSync(join(dir, 'e.json'), 'utf8'));
  assert.is(sidecar.droppedNonfinite, 2);
  assert.equal(sidecar.droppedRows, [1, 3]);

  // The kept rows are those of the finite sentences alone.
  const alone = fresh('out');
  await run({ model: overflowing, input: sentences(['a b', 'c']), out: join(alone, 'e.npy'), poolings: ['cls', 'mean'], layers: 'all' });
  for (const p of ['cls', 'mean']) {
    const got = await readEmbeddings(join(dir, `e.${p}.npy`), { layer: 2 });
    const want = await readEmbeddings(join(alone, `e.${p}.npy`), { layer: 2 });
    assert.equal(got.shape, [2, 3, 32]);
    assert.is(got.data.length, 2 * 32);
    for (let i = 0; i < got.data.length; i++) assert.ok(Math.abs(got.data[i] - want.data[i]) < 1e-5, `${p} value ${i}`);
  }

  const none = fresh('out');
  await rejects(run({ model: overflowing, input: sentences(['z', 'z b']), out: join(none, 'e.npy'), dropNonfinite: true }), 'the vectors of every sentence hold NaN or Inf');
  assert.equal(readdirSync(none), []);
});

test('an output whose rows are all the same vector draws a warning', async () => {
  const input = sentences(['a b', 'c d e', 'f']);
  const layer0 = await run({ model: plain, input, out: join(fresh('out'), 'e.npy'), layers: [0] });
  assert.ok(layer0.warnings.some((w) => /all 3 rows of .*e\.npy are the same vector.*\[CLS\] vector of layer 0/.test(w)), layer0.warnings.join('\n'));
  const same = await run({ model: plain, input: sentences(['a b', 'a b']), out: join(fresh('out'), 'e.npy'), poolings: ['mean'] });
  assert.ok(same.warnings.some((w) => /all 2 rows of .*e\.npy are the same vector.*are all the sentences the same/.test(w)), same.warnings.join('\n'));
  const normal = await run({ model: plain, input, out: join(fresh('out'), 'e.npy'), poolings: ['cls', 'mean'] });
  assert.not.ok(normal.warnings.some((w) => w.includes('same vector')), normal.warnings.join('\n'));
});

test('outputs are checked before any work and never replace an input or a model file', async () => {
  const model = bertWith();
  const config = readFileSync(join(model, 'config.json'));
  const weights = readFileSync(join(model, 'model.safetensors'));
  const input = sentences(['a b']);
  // The sidecar of m/config.npy would be m/config.json.
  await rejects(run({ model, input, out: join(model, 'config.npy') }),
    `${join(model, 'config.json')} (the sidecar written beside the .npy output): refusing to overwrite a file of the model ${model} (${join(model, 'config.json')})`);
  await rejects(run({ model, input, out: join(model, 'model.safetensors') }), 'refusing to overwrite a file of the model');
  await rejects(run({ model, input, out: join(model, 'vocab.txt') }), `${join(model, 'vocab.txt')}: refusing to overwrite a file of the model`);
  await rejects(run({ model, input, out: input }), 'refusing to overwrite the input file');
  await rejects(run({ model, input, out: join(model, 'nope', 'e.npy') }), 'the output folder', 'does not exist');
  // Checked before the model is even looked for.
  await rejects(run({ model: 'org/never-downloaded', input, out: input, hub: { offline: true, cacheDir: tmp.path('no-cache') } }), 'refusing to overwrite the input file');
  assert.ok(readFileSync(join(model, 'config.json')).equals(config));
  assert.ok(readFileSync(join(model, 'model.safetensors')).equals(weights));
  assert.equal(readdirSync(model).sort(), ['config.json', 'model.safetensors', 'tokenizer_config.json', 'vocab.txt']);
  // A path through a link to the model folder is the same file.
  const link = tmp.path(`link-${counter++}`);
  symlinkSync(model, link);
  await rejects(run({ model, input, out: join(link, 'config.npy') }), 'refusing to overwrite a file of the model');
});

test('in a hub cache snapshot, the blobs its links point to are protected too', async () => {
  const source = bertWith();
  const cache = fresh('cache');
  const repo = join(cache, 'models--org--tiny');
  const commit = '0123456789abcdef0123456789abcdef01234567';
  const snapshot = join(repo, 'snapshots', commit);
  mkdirSync(join(repo, 'blobs'), { recursive: true });
  mkdirSync(snapshot, { recursive: true });
  mkdirSync(join(repo, 'refs'));
  writeFileSync(join(repo, 'refs', 'main'), commit);
  for (const f of readdirSync(source)) {
    writeFileSync(join(repo, 'blobs', `blob-${f}`), readFileSync(join(source, f)));
    symlinkSync(join('..', '..', 'blobs', `blob-${f}`), join(snapshot, f));
  }
  const input = sentences(['a b']);
  await rejects(run({ model: 'org/tiny', input, out: join(repo, 'blobs', 'blob-config.npy'), hub: { offline: true, cacheDir: cache } }),
    `${join(repo, 'blobs', 'blob-config.json')} (the sidecar written beside the .npy output): refusing to overwrite a file of the model org/tiny`);
  await rejects(
    run({ model: 'org/tiny', input, out: join(repo, 'blobs', 'blob-model.safetensors'), hub: { offline: true, cacheDir: cache } }),
    'refusing to overwrite a file of the model org/tiny',
  );
  const ok = await run({ model: 'org/tiny', input, out: join(fresh('out'), 'e.npy'), hub: { offline: true, cacheDir: cache } });
  assert.is(ok.meta.commit, commit);
  assert.ok(existsSync(ok.meta.outputs[0].path));
});

test.run();
