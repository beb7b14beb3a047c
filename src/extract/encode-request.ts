/**
 * What every encoder implementation shares, so that the tfjs forward pass (`encoder.ts`) and the
 * native one (`native-encoder.ts`) have one semantics: the request and result shapes, the checks
 * of weights, requests and batches (same errors, same messages), position ids, the attention mask
 * bias and how deep a request makes the forward pass go.
 */
import { ExtractError, maxSequenceLength, type Checkpoint, type EncoderConfig, type HostTensor, type TokenBatch } from './types.js';

/**
 * How one vector is drawn from a sentence's token states.
 * - `cls`: the first token's hidden state ([CLS] for BERT, `<s>` for RoBERTa), per requested layer.
 * - `pooler`: `tanh(W cls + b)` over the last layer's first token: BERT's pooler output. Needs the
 *   checkpoint's `pooler.dense.*` weights; independent of the requested layers.
 * - `mean`: the mean over the real tokens (attention mask 1, special tokens included, padding
 *   excluded), as sentence-transformers does, per requested layer.
 */
export type Pooling = 'cls' | 'pooler' | 'mean';

/** What an encoder's `encode` computes. */
export interface EncodeRequest {
  /**
   * Indices into Hugging Face's `hidden_states`: 0 = embedding output (after its LayerNorm),
   * i = output of transformer layer i, up to `numLayers`. Sorted, unique. Used by `cls` and
   * `mean`; may be empty when only `pooler` is requested.
   */
  layers: number[];
  /** Unique poolings; each gives one entry of {@link EncodeResult.pooled}. */
  poolings: Pooling[];
}

/** The pooled vectors of one batch. */
export interface EncodeResult {
  /**
   * Per requested pooling: `data` is float32, row-major `batch x layers x hiddenSize`, with
   * `layers` = `request.layers.length` in the request's order; for `pooler`, `layers` is 1 (the
   * model's pooler always reads the last layer).
   */
  pooled: Map<Pooling, { data: Float32Array; layers: number }>;
}

/**
 * Additive attention bias on padded keys. Large enough that exp() underflows to exactly 0 after
 * softmax's max subtraction, small enough that a row with no real key stays finite (no NaN).
 */
export const MASKED = -1e9;
/** sentence-transformers' clamp for the token count of the mean (all-padding rows give zeros). */
export const MIN_COUNT = 1e-9;

/** The activations an encoder implements (config.json's hidden_act after parseConfig's mapping). */
const ACTIVATIONS: ReadonlyArray<EncoderConfig['hiddenAct']> = ['gelu', 'gelu_new', 'relu'];

/**
 * Checks a checkpoint before any encoder builds on it: heads divide the hidden size, the layer
 * count and activation are supported, and every weight has the shape the config implies.
 * `loadCheckpoint` has checked the shapes already; encoders accept hand-built checkpoints too.
 * @throws ExtractError naming the folder and the first offending weight
 */
export function checkEncoderWeights(ckpt: Checkpoint): void {
  const c = ckpt.config;
  const w = ckpt.weights;
  const d = c.hiddenSize;
  const f = c.intermediateSize;
  if (!(d > 0 && c.numHeads > 0 && d % c.numHeads === 0)) {
    throw new ExtractError(`${ckpt.folder}: hidden_size ${d} is not a multiple of num_attention_heads ${c.numHeads}`);
  }
  if (w.layers.length !== c.numLayers) {
    throw new ExtractError(`${ckpt.folder}: config says ${c.numLayers} layers, the weights have ${w.layers.length}`);
  }
  if (!ACTIVATIONS.includes(c.hiddenAct)) {
    throw new ExtractError(`${ckpt.folder}: unsupported hidden_act '${c.hiddenAct}' (gelu, gelu_new, relu)`);
  }
  const check = (t: HostTensor | undefined, shape: number[], name: string): void => {
    if (!t) return;
    const n = shape.reduce((a, b) => a * b, 1);
    if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i]) || t.data.length !== n) {
      throw new ExtractError(`${ckpt.folder}: ${name} has shape [${t.shape.join(', ')}], the config implies [${shape.join(', ')}]`);
    }
  };
  check(w.wordEmb, [c.vocabSize, d], 'embeddings.word_embeddings.weight');
  check(w.posEmb, [c.maxPositions, d], 'embeddings.position_embeddings.weight');
  check(w.typeEmb, [c.typeVocabSize, d], 'embeddings.token_type_embeddings.weight');
  check(w.embLnG, [d], 'embeddings.LayerNorm.weight');
  check(w.embLnB, [d], 'embeddings.LayerNorm.bias');
  w.layers.forEach((l, i) => {
    const p = `encoder.layer.${i}.`;
    check(l.queryW, [d, d], p + 'attention.self.query.weight');
    check(l.queryB, [d], p + 'attention.self.query.bias');
    check(l.keyW, [d, d], p + 'attention.self.key.weight');
    check(l.keyB, [d], p + 'attention.self.key.bias');
    check(l.valueW, [d, d], p + 'attention.self.value.weight');
    check(l.valueB, [d], p + 'attention.self.value.bias');
    check(l.attnOutW, [d, d], p + 'attention.output.dense.weight');
    check(l.attnOutB, [d], p + 'attention.output.dense.bias');
    check(l.attnLnG, [d], p + 'attention.output.LayerNorm.weight');
    check(l.attnLnB, [d], p + 'attention.output.LayerNorm.bias');
    check(l.interW, [f, d], p + 'intermediate.dense.weight');
    check(l.interB, [f], p + 'intermediate.dense.bias');
    check(l.outW, [d, f], p + 'output.dense.weight');
    check(l.outB, [d], p + 'output.dense.bias');
    check(l.outLnG, [d], p + 'output.LayerNorm.weight');
    check(l.outLnB, [d], p + 'output.LayerNorm.bias');
  });
  check(w.poolerW, [d, d], 'pooler.dense.weight');
  check(w.poolerB, [d], 'pooler.dense.bias');
}

/**
 * Checks poolings (known, unique; `pooler` needs pooler weights) and layers (0..numLayers, sorted,
 * unique).
 * @throws ExtractError saying which entry is wrong
 */
export function checkRequest(config: EncoderConfig, hasPooler: boolean, req: EncodeRequest): void {
  const L = config.numLayers;
  const poolings = new Set<string>();
  for (const p of req.poolings) {
    if (p !== 'cls' && p !== 'pooler' && p !== 'mean') {
      throw new ExtractError(`unknown pooling '${String(p)}': use cls, pooler or mean`);
    }
    if (poolings.has(p)) throw new ExtractError(`pooling '${p}' requested twice`);
    poolings.add(p);
  }
  if (poolings.has('pooler') && !hasPooler) {
    throw new ExtractError('this checkpoint has no pooler weights (pooler.dense.*); use the cls or mean pooling');
  }
  let prev = -1;
  for (const l of req.layers) {
    if (!Number.isInteger(l) || l < 0 || l > L) {
      throw new ExtractError(`layer ${l} does not exist: this model has layers 0 (embeddings) to ${L}`);
    }
    if (l <= prev) throw new ExtractError(`layers must be sorted and unique, got [${req.layers.join(', ')}]`);
    prev = l;
  }
}

/**
 * Checks a token batch: consistent sizes, at least one token per row, no longer than the position
 * table, token and type ids inside the model's tables.
 * @throws ExtractError for a malformed batch or ids the model cannot embed
 */
export function checkBatch(config: EncoderConfig, batch: TokenBatch): void {
  const { batch: B, seq: T } = batch;
  const n = B * T;
  if (!Number.isInteger(B) || !Number.isInteger(T) || B < 0 || T < 0 ||
      batch.ids.length !== n || batch.mask.length !== n || batch.typeIds.length !== n) {
    throw new ExtractError(`malformed token batch: ${B} x ${T} with ${batch.ids.length} ids, ` +
      `${batch.mask.length} mask and ${batch.typeIds.length} type entries`);
  }
  if (B > 0 && T === 0) throw new ExtractError('empty token sequences: every row needs at least one token');
  const maxSeq = maxSequenceLength(config);
  if (T > maxSeq) {
    throw new ExtractError(`a sequence of ${T} tokens is longer than this model's ${maxSeq} positions; truncate it`);
  }
  for (let i = 0; i < n; i++) {
    const id = batch.ids[i];
    if (id < 0 || id >= config.vocabSize) {
      throw new ExtractError(`token id ${id} is outside the vocabulary (size ${config.vocabSize}): tokenizer and model do not match`);
    }
    const ty = batch.typeIds[i];
    if (ty < 0 || ty >= config.typeVocabSize) {
      throw new ExtractError(`token type id ${ty} is outside this model's ${config.typeVocabSize} type(s)`);
    }
  }
}

/**
 * Position ids, batch x seq. RoBERTa's follow transformers' create_position_ids_from_input_ids:
 * they count the tokens whose id is not `padTokenId`, starting at `padTokenId + 1` (padding gets
 * `padTokenId`); BERT's are 0..seq-1.
 */
export function positionIds(config: EncoderConfig, batch: TokenBatch): Int32Array {
  const { batch: B, seq: T, ids } = batch;
  const out = new Int32Array(B * T);
  if (config.modelType === 'roberta') {
    const pad = config.padTokenId;
    for (let b = 0; b < B; b++) {
      let n = 0;
      for (let t = 0; t < T; t++) {
        const i = b * T + t;
        out[i] = ids[i] === pad ? pad : pad + ++n;
      }
    }
  } else {
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) out[b * T + t] = t;
  }
  return out;
}

/** How far a request makes the forward pass go, and what it collects on the way. */
export interface EncodePlan {
  /** The deepest hidden state needed: numLayers with `pooler`, else the last requested layer. */
  depth: number;
  /** Layers whose `cls` / `mean` vectors are collected (empty with only `pooler`). */
  wanted: Set<number>;
  wantPooler: boolean;
  /**
   * Whether only the first token of the deepest layer is ever read (no `mean` pooling): the last
   * layer then needs its queries, output and feed-forward for that token alone.
   */
  firstTokenOnlyAtDepth: boolean;
}

/** The plan of an already checked request. */
export function encodePlan(config: EncoderConfig, req: EncodeRequest): EncodePlan {
  const wantLayers = req.poolings.some((p) => p !== 'pooler');
  const wantPooler = req.poolings.includes('pooler');
  const lastLayer = wantLayers && req.layers.length ? req.layers[req.layers.length - 1] : 0;
  const depth = Math.max(wantPooler ? config.numLayers : 0, lastLayer);
  return {
    depth,
    wanted: new Set(wantLayers ? req.layers : []),
    wantPooler,
    firstTokenOnlyAtDepth: !req.poolings.includes('mean'),
  };
}

/** The result of an empty batch: empty arrays with the layer counts a full one would have. */
export function emptyResult(req: EncodeRequest): EncodeResult {
  const pooled = new Map<Pooling, { data: Float32Array; layers: number }>();
  for (const p of req.poolings) pooled.set(p, { data: new Float32Array(0), layers: p === 'pooler' ? 1 : req.layers.length });
  return { pooled };
}
