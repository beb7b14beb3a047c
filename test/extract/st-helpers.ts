/**
 * Test data for the extractor: safetensors files written from scratch (independently of the
 * reader under test) and tiny Hugging Face BERT/RoBERTa model folders with seeded random weights.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gaussian } from '../helpers/random.js';

/** Dtypes the writer can encode; integer ones take integer values. */
export type WriteDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'U8';

/** One tensor to write: values in row-major order, rounded to `dtype` on the way out. */
export interface WriteTensor {
  dtype: WriteDtype;
  shape: number[];
  data: ArrayLike<number>;
}

const ITEMSIZE: Record<WriteDtype, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, U8: 1 };

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const r = v - f;
  if (r > 0.5) return f + 1;
  if (r < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** IEEE half-precision bits of a number, round to nearest even (overflow -> Inf, NaN -> 0x7e00). */
export function toHalfBits(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a === Infinity || a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -14) return sign | roundHalfEven(a / 2 ** -24); // 1024 here is the smallest normal: right bits
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  let m = roundHalfEven((a / 2 ** e - 1) * 1024);
  if (m === 1024) {
    m = 0;
    e++;
  }
  if (e > 15) return sign | 0x7c00;
  return sign | ((e + 15) << 10) | m;
}

/** The number a half-precision bit pattern stands for. */
export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m === 0 ? sign * Infinity : NaN;
  return sign * 2 ** (e - 15) * (1 + m / 1024);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** bfloat16 bits of a number (via float32), round to nearest even; NaN -> 0x7fc0. */
export function toBf16Bits(x: number): number {
  f32[0] = x;
  if (Number.isNaN(f32[0])) return 0x7fc0;
  const u = u32[0];
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** The number a bfloat16 bit pattern stands for. */
export function fromBf16Bits(b: number): number {
  u32[0] = (b << 16) >>> 0;
  return f32[0];
}

/** The values as a reader must return them after storing them as `dtype` (float32 precision). */
export function storedValues(dtype: WriteDtype, values: ArrayLike<number>): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out[i] = dtype === 'F16' ? fromHalfBits(toHalfBits(Math.fround(v))) : dtype === 'BF16' ? fromBf16Bits(toBf16Bits(v)) : v;
  }
  return out;
}

function encode(t: WriteTensor, name: string): Uint8Array {
  const count = t.shape.reduce((a, b) => a * b, 1);
  if (t.data.length !== count) throw new RangeError(`${name}: ${t.data.length} values for shape [${t.shape}]`);
  const bytes = new Uint8Array(count * ITEMSIZE[t.dtype]);
  const dv = new DataView(bytes.buffer);
  for (let i = 0; i < count; i++) {
    const v = t.data[i];
    switch (t.dtype) {
      case 'F32': dv.setFloat32(i * 4, v, true); break;
      case 'F64': dv.setFloat64(i * 8, v, true); break;
      case 'F16': dv.setUint16(i * 2, toHalfBits(Math.fround(v)), true); break;
      case 'BF16': dv.setUint16(i * 2, toBf16Bits(v), true); break;
      case 'I64': dv.setBigInt64(i * 8, BigInt(v), true); break;
      case 'I32': dv.setInt32(i * 4, v, true); break;
      case 'U8': dv.setUint8(i, v); break;
    }
  }
  return bytes;
}

/**
 * A safetensors file from a raw header and data buffer, for hand-built (corrupt) files.
 * @param header - JSON text, or a value to stringify.
 * @param headerLength - the length to write in the first 8 bytes (default: the true length).
 */
export function safetensorsBytes(header: string | object, data: Uint8Array = new Uint8Array(0), headerLength?: number | bigint): Uint8Array {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  const h = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength ?? h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

/** The bytes of a valid safetensors file, tensors stored contiguously in the given order. */
export function buildSafetensors(tensors: Record<string, WriteTensor>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) header.__metadata__ = metadata;
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = encode(t, name);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  }
  let text = JSON.stringify(header);
  // The reference writer pads the header with spaces so the data starts 8-byte aligned.
  while ((8 + new TextEncoder().encode(text).length) % 8 !== 0) text += ' ';
  const data = new Uint8Array(offset);
  let at = 0;
  for (const p of parts) {
    data.set(p, at);
    at += p.length;
  }
  return safetensorsBytes(text, data);
}

/** Writes a valid safetensors file (see {@link buildSafetensors}); returns `path`. */
export function writeSafetensors(path: string, tensors: Record<string, WriteTensor>, metadata?: Record<string, string>): string {
  writeFileSync(path, buildSafetensors(tensors, metadata));
  return path;
}

/** What {@link writeTinyModel} writes. */
export interface TinyModelOptions {
  modelType: 'bert' | 'roberta';
  /** Prefix of the encoder tensors, as task-head models store them (default ''). */
  prefix?: 'bert.' | 'roberta.' | '';
  /** LayerNorm parameters named gamma/beta, as in TF-era checkpoints (default false). */
  oldLayerNorm?: boolean;
  /** Also write task-head tensors and embeddings.position_ids (I64), which loaders must ignore (default false). */
  heads?: boolean;
  /** Float dtype of every weight (default F32). */
  dtype?: 'F32' | 'F16' | 'BF16';
  /** Split the weights over this many shard files with a model.safetensors.index.json (default 1: one model.safetensors). */
  shards?: number;
  /** Write the pooler (default true). */
  pooler?: boolean;
  /** Write a small tokenizer (vocab.txt for bert, vocab.json + merges.txt for roberta; default true). */
  tokenizer?: boolean;
  /** Canonical tensor names to leave out. */
  omit?: string[];
  /** Keys merged over the generated config.json (undefined values delete the key). */
  config?: Record<string, unknown>;
  layers?: number;
  hidden?: number;
  /** Attention heads (named so to keep `heads` for the task-head switch). */
  attentionHeads?: number;
  intermediate?: number;
  vocab?: number;
  maxPos?: number;
  seed?: number;
}

/** A written tiny model. */
export interface TinyModel {
  dir: string;
  /** The config.json content. */
  config: Record<string, unknown>;
  /** Canonical (prefix-free, new LayerNorm names) tensor name -> values as stored (rounded to dtype). */
  weights: Record<string, Float32Array>;
  /** Tensor names as written to the safetensors files, heads included. */
  storedNames: string[];
}

/** The canonical encoder tensors of a config, in the order their values are drawn. */
export function tinyModelShapes(o: { layers: number; hidden: number; intermediate: number; vocab: number; maxPos: number; typeVocab: number; pooler: boolean }): Array<[string, number[]]> {
  const h = o.hidden;
  const out: Array<[string, number[]]> = [
    ['embeddings.word_embeddings.weight', [o.vocab, h]],
    ['embeddings.position_embeddings.weight', [o.maxPos, h]],
    ['embeddings.token_type_embeddings.weight', [o.typeVocab, h]],
    ['embeddings.LayerNorm.weight', [h]],
    ['embeddings.LayerNorm.bias', [h]],
  ];
  for (let l = 0; l < o.layers; l++) {
    const p = `encoder.layer.${l}.`;
    for (const m of ['query', 'key', 'value']) {
      out.push([`${p}attention.self.${m}.weight`, [h, h]], [`${p}attention.self.${m}.bias`, [h]]);
    }
    out.push(
      [`${p}attention.output.dense.weight`, [h, h]],
      [`${p}attention.output.dense.bias`, [h]],
      [`${p}attention.output.LayerNorm.weight`, [h]],
      [`${p}attention.output.LayerNorm.bias`, [h]],
      [`${p}intermediate.dense.weight`, [o.intermediate, h]],
      [`${p}intermediate.dense.bias`, [o.intermediate]],
      [`${p}output.dense.weight`, [h, o.intermediate]],
      [`${p}output.dense.bias`, [h]],
      [`${p}output.LayerNorm.weight`, [h]],
      [`${p}output.LayerNorm.bias`, [h]],
    );
  }
  if (o.pooler) out.push(['pooler.dense.weight', [h, h]], ['pooler.dense.bias', [h]]);
  return out;
}

function randomValues(name: string, count: number, g: () => number): Float32Array {
  const out = new Float32Array(count);
  // LayerNorm gains near 1, everything else small, like a trained model's scale.
  const isGain = name.endsWith('LayerNorm.weight') || name.endsWith('layer_norm.weight');
  const scale = name.includes('embeddings') || name.endsWith('.weight') ? 0.2 : 0.05;
  for (let i = 0; i < count; i++) out[i] = isGain ? 1 + 0.1 * g() : scale * g();
  return out;
}

function oldName(name: string): string {
  if (/LayerNorm\.weight$/.test(name)) return name.replace(/weight$/, 'gamma');
  if (/LayerNorm\.bias$/.test(name)) return name.replace(/bias$/, 'beta');
  return name;
}

/**
 * Writes a tiny BERT or RoBERTa model folder: config.json, model.safetensors (or shards and
 * model.safetensors.index.json) and, by default, a small tokenizer. Encoder weights depend only on
 * the sizes and `seed`, so variants (prefix, old names, heads, shards) hold identical encoders.
 */
export function writeTinyModel(dir: string, opts: TinyModelOptions): TinyModel {
  const {
    modelType, prefix = '', oldLayerNorm = false, heads = false, dtype = 'F32', shards = 1, pooler = true,
    tokenizer = true, omit = [], layers = 2, hidden = 32, attentionHeads = 4, intermediate = 64, vocab = 100,
    maxPos = 40, seed = 1,
  } = opts;
  mkdirSync(dir, { recursive: true });
  const roberta = modelType === 'roberta';
  const typeVocab = roberta ? 1 : 2;
  const config: Record<string, unknown> = {
    architectures: [roberta ? (heads ? 'RobertaForMaskedLM' : 'RobertaModel') : heads ? 'BertForPreTraining' : 'BertModel'],
    attention_probs_dropout_prob: 0.1,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    hidden_size: hidden,
    initializer_range: 0.02,
    intermediate_size: intermediate,
    layer_norm_eps: roberta ? 1e-5 : 1e-12,
    max_position_embeddings: maxPos,
    model_type: modelType,
    num_attention_heads: attentionHeads,
    num_hidden_layers: layers,
    pad_token_id: roberta ? 1 : 0,
    position_embedding_type: 'absolute',
    type_vocab_size: typeVocab,
    vocab_size: vocab,
    ...(roberta ? { bos_token_id: 0, eos_token_id: 2 } : {}),
  };
  for (const [k, v] of Object.entries(opts.config ?? {})) {
    if (v === undefined) delete config[k];
    else config[k] = v;
  }
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));

  const g = gaussian(seed);
  const weights: Record<string, Float32Array> = {};
  const tensors: Record<string, WriteTensor> = {};
  for (const [name, shape] of tinyModelShapes({ layers, hidden, intermediate, vocab, maxPos, typeVocab, pooler })) {
    const values = randomValues(name, shape.reduce((a, b) => a * b, 1), g);
    if (omit.includes(name)) continue;
    weights[name] = storedValues(dtype, values);
    tensors[prefix + (oldLayerNorm ? oldName(name) : name)] = { dtype, shape, data: values };
  }
  if (heads) {
    const gh = gaussian(seed + 7919);
    const headShapes: Array<[string, number[]]> = roberta
      ? [
          ['lm_head.dense.weight', [hidden, hidden]], ['lm_head.dense.bias', [hidden]],
          ['lm_head.layer_norm.weight', [hidden]], ['lm_head.layer_norm.bias', [hidden]],
          ['lm_head.decoder.weight', [vocab, hidden]], ['lm_head.bias', [vocab]],
        ]
      : [
          ['cls.predictions.bias', [vocab]],
          ['cls.predictions.transform.dense.weight', [hidden, hidden]], ['cls.predictions.transform.dense.bias', [hidden]],
          ['cls.predictions.transform.LayerNorm.weight', [hidden]], ['cls.predictions.transform.LayerNorm.bias', [hidden]],
          ['cls.predictions.decoder.weight', [vocab, hidden]],
          ['cls.seq_relationship.weight', [2, hidden]], ['cls.seq_relationship.bias', [2]],
          ['classifier.weight', [3, hidden]], ['classifier.bias', [3]],
          ['qa_outputs.weight', [2, hidden]], ['qa_outputs.bias', [2]],
        ];
    for (const [name, shape] of headShapes) {
      tensors[oldLayerNorm ? oldName(name) : name] = { dtype, shape, data: randomValues(name, shape.reduce((a, b) => a * b, 1), gh) };
    }
    tensors[`${prefix}embeddings.position_ids`] = { dtype: 'I64', shape: [1, maxPos], data: Array.from({ length: maxPos }, (_, i) => i) };
  }

  const names = Object.keys(tensors);
  if (shards <= 1) {
    writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  } else {
    const weightMap: Record<string, string> = {};
    let total = 0;
    const per = Math.ceil(names.length / shards);
    for (let s = 0; s < shards; s++) {
      const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
      const part: Record<string, WriteTensor> = {};
      for (const name of names.slice(s * per, (s + 1) * per)) {
        part[name] = tensors[name];
        weightMap[name] = file;
        total += tensors[name].data.length * ITEMSIZE[tensors[name].dtype];
      }
      writeSafetensors(join(dir, file), part, { format: 'pt' });
    }
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2));
  }

  if (tokenizer) writeTinyTokenizer(dir, modelType, vocab);
  return { dir, config, weights, storedNames: names };
}

/** A toy vocabulary of exactly `vocab` entries with the model type's special tokens in their usual places. */
function writeTinyTokenizer(dir: string, modelType: 'bert' | 'roberta', vocab: number): void {
  const letters = 'abcdefghijklmnopqrstuvwxyz'.split('');
  if (modelType === 'bert') {
    const tokens = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...letters, ...letters.map((c) => `##${c}`)];
    for (let i = 0; tokens.length < vocab; i++) tokens.push(`[unused${i}]`);
    writeFileSync(join(dir, 'vocab.txt'), tokens.slice(0, vocab).join('\n') + '\n');
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: true, tokenizer_class: 'BertTokenizer' }));
  } else {
    const tokens = ['<s>', '<pad>', '</s>', '<unk>', ...letters, ...letters.map((c) => `\u0120${c}`)];
    for (let i = 0; tokens.length < vocab - 1; i++) tokens.push(`<extra${i}>`);
    tokens.length = vocab - 1;
    tokens.push('<mask>');
    writeFileSync(join(dir, 'vocab.json'), JSON.stringify(Object.fromEntries(tokens.map((t, i) => [t, i]))));
    writeFileSync(join(dir, 'merges.txt'), '#version: 0.2\n');
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'RobertaTokenizer' }));
  }
}

/** A temp folder removed by `cleanup`; `path(...)` joins inside it. */
export function tempDir(tag = 'extract'): { dir: string; path: (...parts: string[]) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `isotropy-${tag}-`));
  return {
    dir,
    path: (...parts) => join(dir, ...parts),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export { rejects } from '../io/helpers.ts';
