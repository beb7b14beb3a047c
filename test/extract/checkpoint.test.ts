import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { canonicalName, loadCheckpoint, parseConfig } from '../../src/extract/checkpoint.js';
import { ExtractError, type Checkpoint, type EncoderWeights, type HostTensor } from '../../src/extract/types.js';
import { rejects, tempDir, tinyModelShapes, writeSafetensors, writeTinyModel, type TinyModel, type TinyModelOptions, type WriteTensor } from './st-helpers.js';

const tmp = tempDir('ckpt');
test.after(() => tmp.cleanup());

let counter = 0;
function model(opts: TinyModelOptions): TinyModel {
  return writeTinyModel(tmp.path(`m${counter++}`), opts);
}

/** Every tensor of loaded weights under its canonical HF name. */
function byName(w: EncoderWeights): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>([
    ['embeddings.word_embeddings.weight', w.wordEmb],
    ['embeddings.position_embeddings.weight', w.posEmb],
    ['embeddings.token_type_embeddings.weight', w.typeEmb],
    ['embeddings.LayerNorm.weight', w.embLnG],
    ['embeddings.LayerNorm.bias', w.embLnB],
  ]);
  w.layers.forEach((l, i) => {
    const p = `encoder.layer.${i}.`;
    out.set(`${p}attention.self.query.weight`, l.queryW).set(`${p}attention.self.query.bias`, l.queryB);
    out.set(`${p}attention.self.key.weight`, l.keyW).set(`${p}attention.self.key.bias`, l.keyB);
    out.set(`${p}attention.self.value.weight`, l.valueW).set(`${p}attention.self.value.bias`, l.valueB);
    out.set(`${p}attention.output.dense.weight`, l.attnOutW).set(`${p}attention.output.dense.bias`, l.attnOutB);
    out.set(`${p}attention.output.LayerNorm.weight`, l.attnLnG).set(`${p}attention.output.LayerNorm.bias`, l.attnLnB);
    out.set(`${p}intermediate.dense.weight`, l.interW).set(`${p}intermediate.dense.bias`, l.interB);
    out.set(`${p}output.dense.weight`, l.outW).set(`${p}output.dense.bias`, l.outB);
    out.set(`${p}output.LayerNorm.weight`, l.outLnG).set(`${p}output.LayerNorm.bias`, l.outLnB);
  });
  if (w.poolerW !== undefined) out.set('pooler.dense.weight', w.poolerW);
  if (w.poolerB !== undefined) out.set('pooler.dense.bias', w.poolerB);
  return out;
}

function sameArray(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** The loaded weights are exactly the written ones (as stored), with the right shapes. */
function matches(ckpt: Checkpoint, m: TinyModel): void {
  const got = byName(ckpt.weights);
  assert.equal([...got.keys()].sort(), Object.keys(m.weights).sort(), 'tensor names');
  const shapes = new Map(
    tinyModelShapes({
      layers: ckpt.config.numLayers, hidden: ckpt.config.hiddenSize, intermediate: ckpt.config.intermediateSize,
      vocab: ckpt.config.vocabSize, maxPos: ckpt.config.maxPositions, typeVocab: ckpt.config.typeVocabSize, pooler: true,
    }),
  );
  for (const [name, t] of got) {
    assert.equal(t.shape, shapes.get(name), `${name} shape`);
    assert.ok(sameArray(t.data, m.weights[name]), `${name} values`);
  }
}

function sameWeights(a: Checkpoint, b: Checkpoint): void {
  const x = byName(a.weights);
  const y = byName(b.weights);
  assert.equal([...x.keys()], [...y.keys()]);
  for (const [name, t] of x) {
    assert.equal(t.shape, y.get(name)!.shape, name);
    assert.ok(sameArray(t.data, y.get(name)!.data), `${name} differs`);
  }
}

test('a BERT folder loads: config, every weight, pooler, dtypes', async () => {
  const m = model({ modelType: 'bert', seed: 3 });
  const ckpt = await loadCheckpoint(m.dir);
  assert.is(ckpt.folder, m.dir);
  assert.equal(ckpt.config, {
    modelType: 'bert', hiddenSize: 32, numLayers: 2, numHeads: 4, intermediateSize: 64, hiddenAct: 'gelu',
    layerNormEps: 1e-12, maxPositions: 40, typeVocabSize: 2, vocabSize: 100, padTokenId: 0,
  });
  assert.equal(ckpt.dtypes, ['F32']);
  assert.is(ckpt.weights.layers.length, 2);
  assert.ok(ckpt.weights.poolerW !== undefined && ckpt.weights.poolerB !== undefined);
  matches(ckpt, m);
});

test('a RoBERTa folder loads with its own defaults', async () => {
  const m = model({ modelType: 'roberta', layers: 3, seed: 4 });
  const ckpt = await loadCheckpoint(m.dir);
  assert.is(ckpt.config.modelType, 'roberta');
  assert.is(ckpt.config.padTokenId, 1);
  assert.is(ckpt.config.typeVocabSize, 1);
  assert.is(ckpt.config.layerNormEps, 1e-5);
  matches(ckpt, m);
});

test('prefix, gamma/beta names and heads all load to the same weights', async () => {
  for (const modelType of ['bert', 'roberta'] as const) {
    const base = await loadCheckpoint(model({ modelType, seed: 9 }).dir);
    const prefix = modelType === 'bert' ? 'bert.' : 'roberta.';
    const variants: TinyModelOptions[] = [
      { modelType, seed: 9, prefix },
      { modelType, seed: 9, oldLayerNorm: true },
      { modelType, seed: 9, heads: true },
      { modelType, seed: 9, prefix, oldLayerNorm: true, heads: true },
    ];
    for (const v of variants) {
      const m = model(v);
      if (v.heads) assert.ok(m.storedNames.some((n) => n.endsWith('embeddings.position_ids')), 'position_ids written');
      const ckpt = await loadCheckpoint(m.dir);
      sameWeights(ckpt, base);
      assert.equal(ckpt.dtypes, ['F32'], `${JSON.stringify(v)}: ignored I64 position_ids does not count`);
      matches(ckpt, m);
    }
  }
});

test('sharded weights load the same as one file', async () => {
  const single = await loadCheckpoint(model({ modelType: 'bert', seed: 11, prefix: 'bert.', heads: true }).dir);
  for (const shards of [2, 3, 5]) {
    const m = model({ modelType: 'bert', seed: 11, prefix: 'bert.', heads: true, shards });
    const ckpt = await loadCheckpoint(m.dir);
    sameWeights(ckpt, single);
  }
});

test('F16 and BF16 checkpoints load as float32 of the stored values', async () => {
  for (const dtype of ['F16', 'BF16'] as const) {
    const m = model({ modelType: 'bert', seed: 12, dtype });
    const ckpt = await loadCheckpoint(m.dir);
    assert.equal(ckpt.dtypes, [dtype]);
    matches(ckpt, m);
    assert.ok(ckpt.weights.wordEmb.data instanceof Float32Array);
  }
});

test('no pooler: the pooler fields are absent; half a pooler is ignored', async () => {
  const none = await loadCheckpoint(model({ modelType: 'roberta', pooler: false }).dir);
  assert.is(none.weights.poolerW, undefined);
  assert.is(none.weights.poolerB, undefined);
  const half = await loadCheckpoint(model({ modelType: 'bert', omit: ['pooler.dense.bias'] }).dir);
  assert.is(half.weights.poolerW, undefined);
});

test('missing weights: one message listing the first 10 and the count', async () => {
  const layer1 = tinyModelShapes({ layers: 2, hidden: 32, intermediate: 64, vocab: 100, maxPos: 40, typeVocab: 2, pooler: false })
    .map(([n]) => n)
    .filter((n) => n.startsWith('encoder.layer.1.') && n !== 'encoder.layer.1.attention.self.query.bias');
  const m = model({ modelType: 'bert', omit: [...layer1, 'embeddings.LayerNorm.bias'] });
  const err = await rejects(
    loadCheckpoint(m.dir),
    `${m.dir}: missing weights: embeddings.LayerNorm.bias, encoder.layer.1.attention.self.query.weight, encoder.layer.1.attention.self.key.weight,`,
    ', ... (16 missing); the checkpoint is incomplete or not a bert encoder',
  );
  assert.ok(err instanceof ExtractError);
  assert.not.ok(err.message.includes('encoder.layer.1.output.LayerNorm.bias'), 'only the first 10 are named');

  const one = model({ modelType: 'bert', omit: ['encoder.layer.0.output.dense.weight'] });
  await rejects(loadCheckpoint(one.dir), 'missing weights: encoder.layer.0.output.dense.weight (1 missing)');
});

test('a config that disagrees with the weights is refused before reading', async () => {
  const m = model({ modelType: 'bert', config: { vocab_size: 120 } });
  await rejects(
    loadCheckpoint(m.dir),
    'weights do not match config.json: "embeddings.word_embeddings.weight" has shape [100, 32], config.json implies [120, 32]',
  );
  const wide = model({ modelType: 'bert', config: { intermediate_size: 48 } });
  await rejects(loadCheckpoint(wide.dir), '"encoder.layer.0.intermediate.dense.weight" has shape [64, 32], config.json implies [48, 32]', 'and 1 more');
});

test('num_hidden_layers must match the layers the weights hold: checked before anything is sized from it', async () => {
  // 2^31 used to build a list of 2^35 tensor names and end in a V8 heap abort after 80 s.
  await rejects(loadCheckpoint(model({ modelType: 'bert', config: { num_hidden_layers: 2147483648 } }).dir),
    'num_hidden_layers is 2147483648; expected an integer from 1 to 2147483647');
  for (const layers of [2147483647, 3, 1]) {
    const m = model({ modelType: 'bert', config: { num_hidden_layers: layers } });
    await rejects(loadCheckpoint(m.dir), `${m.dir}: config.json says num_hidden_layers ${layers}, but the weights hold layers 0 to 1;`, 'the config belongs to another model');
  }
  // One stray tensor with a huge layer number does not make a huge config plausible.
  const stray = customModel((t) => {
    t['encoder.layer.999999999.output.dense.bias'] = { dtype: 'F32', shape: [32], data: new Float32Array(32) };
  });
  writeFileSync(join(stray, 'config.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(stray, 'config.json'), 'utf8')), num_hidden_layers: 1_000_000_000 }));
  await rejects(loadCheckpoint(stray), 'says num_hidden_layers 1000000000, but the weights hold 3 layers numbered with gaps');
  // Every other size is checked against a tensor's shape, which the file's size bounds.
  const huge = model({ modelType: 'bert', config: { intermediate_size: 2147483647, max_position_embeddings: 2147483647 } });
  await rejects(loadCheckpoint(huge.dir), 'weights do not match config.json', 'config.json implies [2147483647, 32]');
});

test('a NaN or Inf in any weight is refused when loaded, naming the tensor', async () => {
  for (const [bad, shown] of [[NaN, 'NaN'], [Infinity, 'Infinity'], [-Infinity, '-Infinity']] as const) {
    const dir = customModel((t) => {
      const data = Float32Array.from(t['encoder.layer.1.output.dense.weight'].data as ArrayLike<number>);
      data[77] = bad;
      data[100] = bad;
      t['encoder.layer.1.output.dense.weight'] = { ...t['encoder.layer.1.output.dense.weight'], data };
    });
    await rejects(loadCheckpoint(dir), `${join(dir, 'model.safetensors')}: tensor "encoder.layer.1.output.dense.weight" holds 2 non-finite value(s) (the first, ${shown}, at flat index 77)`);
  }
  // F16 overflow to Inf is just as bad.
  const f16 = customModel((t) => {
    const data = Float32Array.from(t['embeddings.LayerNorm.bias'].data as ArrayLike<number>);
    data[0] = 1e6;
    t['embeddings.LayerNorm.bias'] = { dtype: 'F16', shape: [32], data };
  });
  await rejects(loadCheckpoint(f16), 'tensor "embeddings.LayerNorm.bias" holds 1 non-finite value(s) (the first, Infinity, at flat index 0)');
});

test('config errors: unsupported model_type, architectures fallback, missing config.json', async () => {
  const gpt2 = model({ modelType: 'bert', config: { model_type: 'gpt2' } });
  await rejects(loadCheckpoint(gpt2.dir), 'config.json: unsupported model_type "gpt2": isotropy extract supports bert and roberta checkpoints');

  const old = model({ modelType: 'roberta', config: { model_type: undefined, architectures: ['RobertaForSequenceClassification'] } });
  assert.is((await loadCheckpoint(old.dir)).config.modelType, 'roberta');

  const noConfig = model({ modelType: 'bert' });
  rmSync(join(noConfig.dir, 'config.json'));
  await rejects(
    loadCheckpoint(noConfig.dir),
    `${noConfig.dir}: no config.json: this is not a Hugging Face model folder (expected config.json and model.safetensors)`,
  );
  const badJson = model({ modelType: 'bert' });
  writeFileSync(join(badJson.dir, 'config.json'), '{"model_type": ');
  await rejects(loadCheckpoint(badJson.dir), 'config.json is not valid JSON');
  await rejects(loadCheckpoint(tmp.path('no-such-folder')), 'no-such-folder: no such folder');
  await rejects(loadCheckpoint(join(badJson.dir, 'config.json')), 'is a file, not a model folder');
});

test('pytorch_model.bin / tf_model.h5 only: refused with the conversion command', async () => {
  const m = model({ modelType: 'bert' });
  rmSync(join(m.dir, 'model.safetensors'));
  writeFileSync(join(m.dir, 'pytorch_model.bin'), 'PK\u0003\u0004 not really a zip');
  const err = await rejects(
    loadCheckpoint(m.dir),
    `${m.dir}: has pytorch_model.bin but no model.safetensors`,
    'never unpickle',
    `AutoModel.from_pretrained('${m.dir}').save_pretrained('<out>', safe_serialization=True)`,
  );
  assert.ok(err instanceof ExtractError);
  rmSync(join(m.dir, 'pytorch_model.bin'));
  writeFileSync(join(m.dir, 'tf_model.h5'), 'HDF');
  await rejects(loadCheckpoint(m.dir), 'has tf_model.h5 but no model.safetensors');
  rmSync(join(m.dir, 'tf_model.h5'));
  await rejects(loadCheckpoint(m.dir), 'no model.safetensors or model.safetensors.index.json');
});

test('broken shard sets: missing shard, tensor not in its shard, path outside the folder', async () => {
  const m = model({ modelType: 'bert', shards: 2 });
  rmSync(join(m.dir, 'model-00002-of-00002.safetensors'));
  await rejects(loadCheckpoint(m.dir), 'shard "model-00002-of-00002.safetensors", listed in model.safetensors.index.json, is missing');

  const wrong = model({ modelType: 'bert', shards: 2 });
  const indexPath = join(wrong.dir, 'model.safetensors.index.json');
  const index = { weight_map: { 'embeddings.word_embeddings.weight': 'model-00002-of-00002.safetensors' } };
  writeFileSync(indexPath, JSON.stringify(index));
  await rejects(loadCheckpoint(wrong.dir), 'puts "embeddings.word_embeddings.weight" in model-00002-of-00002.safetensors, which does not hold it');

  writeFileSync(indexPath, JSON.stringify({ weight_map: { x: '../elsewhere.safetensors' } }));
  await rejects(loadCheckpoint(wrong.dir), 'is not a file name in this folder');
  writeFileSync(indexPath, JSON.stringify({ metadata: {} }));
  await rejects(loadCheckpoint(wrong.dir), 'no "weight_map" object');
});

/** A model folder from explicit tensors (canonical names -> stored names chosen by the test). */
function customModel(edit: (tensors: Record<string, WriteTensor>) => void): string {
  const base = model({ modelType: 'bert', tokenizer: false });
  const shapes = new Map(tinyModelShapes({ layers: 2, hidden: 32, intermediate: 64, vocab: 100, maxPos: 40, typeVocab: 2, pooler: true }));
  const tensors: Record<string, WriteTensor> = {};
  for (const [name, data] of Object.entries(base.weights)) tensors[name] = { dtype: 'F32', shape: shapes.get(name)!, data };
  edit(tensors);
  writeSafetensors(join(base.dir, 'model.safetensors'), tensors);
  return base.dir;
}

test('a needed tensor stored twice (with and without prefix) is ambiguous; a non-float one is refused', async () => {
  const twice = customModel((t) => {
    t['bert.embeddings.LayerNorm.gamma'] = t['embeddings.LayerNorm.weight'];
  });
  await rejects(loadCheckpoint(twice), 'both "embeddings.LayerNorm.weight" and "bert.embeddings.LayerNorm.gamma"', 'ambiguous');

  const ints = customModel((t) => {
    t['embeddings.token_type_embeddings.weight'] = { dtype: 'I32', shape: [2, 32], data: new Array(64).fill(0) };
  });
  await rejects(loadCheckpoint(ints), '"embeddings.token_type_embeddings.weight" has dtype I32, not a float');

  const f64 = customModel((t) => {
    t['embeddings.LayerNorm.bias'] = { ...t['embeddings.LayerNorm.bias'], dtype: 'F64' };
  });
  assert.equal((await loadCheckpoint(f64)).dtypes, ['F32', 'F64']);
});

test('canonicalName strips the model prefix and renames old LayerNorm parameters', () => {
  assert.is(canonicalName('bert.encoder.layer.0.output.LayerNorm.gamma'), 'encoder.layer.0.output.LayerNorm.weight');
  assert.is(canonicalName('roberta.embeddings.LayerNorm.beta'), 'embeddings.LayerNorm.bias');
  assert.is(canonicalName('embeddings.word_embeddings.weight'), 'embeddings.word_embeddings.weight');
  assert.is(canonicalName('cls.predictions.bias'), 'cls.predictions.bias');
});

const BASE = {
  model_type: 'bert', hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 8, intermediate_size: 256,
  max_position_embeddings: 128, vocab_size: 1000,
};

test('parseConfig: defaults and activation names', () => {
  const c = parseConfig(BASE, 'c.json');
  assert.equal(c, {
    modelType: 'bert', hiddenSize: 64, numLayers: 2, numHeads: 8, intermediateSize: 256, hiddenAct: 'gelu',
    layerNormEps: 1e-12, maxPositions: 128, typeVocabSize: 2, vocabSize: 1000, padTokenId: 0,
  });
  assert.is(parseConfig({ ...BASE, model_type: 'roberta' }, 'c.json').padTokenId, 1);
  assert.is(parseConfig({ ...BASE, model_type: 'roberta' }, 'c.json').typeVocabSize, 2);
  assert.is(parseConfig({ ...BASE, pad_token_id: null }, 'c.json').padTokenId, 0);
  for (const [act, want] of [['gelu', 'gelu'], ['gelu_new', 'gelu_new'], ['gelu_pytorch_tanh', 'gelu_new'], ['gelu_fast', 'gelu_new'], ['relu', 'relu']]) {
    assert.is(parseConfig({ ...BASE, hidden_act: act }, 'c.json').hiddenAct, want);
  }
  assert.is(parseConfig({ ...BASE, model_type: undefined, architectures: ['BertForMaskedLM'] }, 'c.json').modelType, 'bert');
  assert.is(parseConfig({ ...BASE, position_embedding_type: 'absolute', layer_norm_eps: 1e-5 }, 'c.json').layerNormEps, 1e-5);
});

test('parseConfig: refusals name the file and the problem', () => {
  const refuse = (json: unknown, ...fragments: string[]): void => {
    try {
      parseConfig(json, 'cfg.json');
    } catch (err) {
      assert.ok(err instanceof ExtractError);
      assert.ok(err.message.startsWith('cfg.json: '), err.message);
      for (const f of fragments) assert.ok(err.message.includes(f), `${JSON.stringify(err.message)} lacks ${JSON.stringify(f)}`);
      return;
    }
    assert.unreachable(`accepted ${JSON.stringify(json)}`);
  };
  refuse([1], 'does not hold a JSON object');
  refuse({ ...BASE, model_type: 'gpt2' }, 'unsupported model_type "gpt2": isotropy extract supports bert and roberta checkpoints');
  refuse({ ...BASE, model_type: 'xlm-roberta' }, 'unsupported model_type "xlm-roberta"');
  refuse({ ...BASE, model_type: undefined, architectures: ['GPT2LMHeadModel'] }, 'architectures "GPT2LMHeadModel"', 'supports bert and roberta');
  refuse({ ...BASE, model_type: undefined }, 'no model_type');
  refuse({ ...BASE, hidden_act: 'silu' }, 'hidden_act "silu" is not supported');
  // Names from the file select code through a Map: Object.prototype's members are not activations.
  for (const act of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) refuse({ ...BASE, hidden_act: act }, `hidden_act "${act}" is not supported`);
  refuse({ ...BASE, hidden_act: 'x'.repeat(100_000) }, 'hidden_act "xxxx', '(100000 characters) is not supported');
  refuse({ ...BASE, num_attention_heads: 7 }, 'hidden_size 64 is not a multiple of num_attention_heads 7');
  refuse({ ...BASE, hidden_size: undefined }, 'config.json lacks hidden_size');
  refuse({ ...BASE, vocab_size: 0 }, 'vocab_size is 0; expected an integer from 1 to 2147483647');
  refuse({ ...BASE, num_hidden_layers: '12' }, 'num_hidden_layers is "12"');
  refuse({ ...BASE, position_embedding_type: 'relative_key' }, 'position_embedding_type "relative_key" is not supported');
  refuse({ ...BASE, layer_norm_eps: -1 }, 'layer_norm_eps is -1');
  refuse({ ...BASE, pad_token_id: 1000 }, 'pad_token_id 1000 is outside the vocabulary');
});

test.run();
