/**
 * The BERT / RoBERTa encoder forward pass (inference only) in TensorFlow.js ops, and the poolings
 * the isotropy analysis reads: the [CLS] vector of any hidden layer, the masked mean over tokens,
 * and the model's pooler (dense + tanh over the last layer's [CLS], what IsoBN acts on).
 *
 * Matches Hugging Face transformers' BertModel / RobertaModel in eval mode (no dropout), absolute
 * position embeddings only. Every dense layer runs as one 2-D matMul over all batch x seq tokens
 * against a weight transposed once at load time: that is the fast XNNPACK path of the wasm
 * backend, whose transposing matMul variants are several times slower.
 */
import * as tf from '@tensorflow/tfjs-core';
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

/** What {@link Encoder.encode} computes. */
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

/** One transformer layer's device weights; Linear weights transposed to [in, out]. */
interface DeviceLayer {
  qT: tf.Tensor2D; qB: tf.Tensor1D;
  kT: tf.Tensor2D; kB: tf.Tensor1D;
  vT: tf.Tensor2D; vB: tf.Tensor1D;
  oT: tf.Tensor2D; oB: tf.Tensor1D;
  ln1G: tf.Tensor1D; ln1B: tf.Tensor1D;
  iT: tf.Tensor2D; iB: tf.Tensor1D;
  fT: tf.Tensor2D; fB: tf.Tensor1D;
  ln2G: tf.Tensor1D; ln2B: tf.Tensor1D;
}

/**
 * Additive attention bias on padded keys. Large enough that exp() underflows to exactly 0 after
 * softmax's max subtraction, small enough that a row with no real key stays finite (no NaN).
 */
const MASKED = -1e9;
/** sentence-transformers' clamp for the token count of the mean (all-padding rows give zeros). */
const MIN_COUNT = 1e-9;

/**
 * A checkpoint's weights on the current tfjs backend, and the forward pass over them.
 * Not safe for concurrent {@link Encoder.encode} calls on different backends; one process-wide
 * backend (see `initBackend`) is assumed.
 */
export class Encoder {
  private disposed = false;

  private constructor(
    /** The model configuration the weights were checked against. */
    readonly config: EncoderConfig,
    private readonly wordEmb: tf.Tensor2D,
    private readonly posEmb: tf.Tensor2D,
    private readonly typeEmb: tf.Tensor2D,
    private readonly embLnG: tf.Tensor1D,
    private readonly embLnB: tf.Tensor1D,
    private readonly layers: DeviceLayer[],
    private readonly pooler: { wT: tf.Tensor2D; b: tf.Tensor1D } | undefined,
  ) {}

  /**
   * Checks every weight's shape against the config and uploads the weights to the current tfjs
   * backend once (call `initBackend` first). Linear weights are transposed here, and the query
   * projection is pre-scaled by 1/sqrt(head size), so the hot path is plain matMuls.
   * Device memory: about the checkpoint's float32 size (440 MB for BERT-base).
   * @throws ExtractError when a shape disagrees with the config or the config is unusable
   */
  static create(ckpt: Checkpoint): Encoder {
    const c = ckpt.config;
    const w = ckpt.weights;
    const d = c.hiddenSize;
    if (!(d > 0 && c.numHeads > 0 && d % c.numHeads === 0)) {
      throw new ExtractError(`${ckpt.folder}: hidden_size ${d} is not a multiple of num_attention_heads ${c.numHeads}`);
    }
    if (w.layers.length !== c.numLayers) {
      throw new ExtractError(`${ckpt.folder}: config says ${c.numLayers} layers, the weights have ${w.layers.length}`);
    }
    if (!['gelu', 'gelu_new', 'relu'].includes(c.hiddenAct)) {
      throw new ExtractError(`${ckpt.folder}: unsupported hidden_act '${c.hiddenAct}' (gelu, gelu_new, relu)`);
    }
    const check = (t: HostTensor, shape: number[], name: string): HostTensor => {
      const n = shape.reduce((a, b) => a * b, 1);
      if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i]) || t.data.length !== n) {
        throw new ExtractError(`${ckpt.folder}: ${name} has shape [${t.shape.join(', ')}], the config implies [${shape.join(', ')}]`);
      }
      return t;
    };
    const scaleQ = 1 / Math.sqrt(d / c.numHeads);
    const created: tf.Tensor[] = [];
    const vec = (t: HostTensor, n: number, name: string, scale = 1): tf.Tensor1D => {
      check(t, [n], name);
      const data = scale === 1 ? t.data : t.data.map((v) => v * scale);
      const out = tf.tensor1d(data, 'float32');
      created.push(out);
      return out;
    };
    const mat = (t: HostTensor, rows: number, cols: number, name: string): tf.Tensor2D => {
      check(t, [rows, cols], name);
      const out = tf.tensor2d(t.data, [rows, cols], 'float32');
      created.push(out);
      return out;
    };
    /** HF Linear [out, in] -> [in, out], optionally scaled. */
    const linT = (t: HostTensor, out: number, inp: number, name: string, scale = 1): tf.Tensor2D => {
      check(t, [out, inp], name);
      const src = t.data;
      const dst = new Float32Array(out * inp);
      for (let o = 0; o < out; o++) {
        const row = o * inp;
        for (let i = 0; i < inp; i++) dst[i * out + o] = src[row + i] * scale;
      }
      const res = tf.tensor2d(dst, [inp, out], 'float32');
      created.push(res);
      return res;
    };
    try {
      const f = c.intermediateSize;
      const layers = w.layers.map((l, i): DeviceLayer => {
        const p = `encoder.layer.${i}.`;
        return {
          qT: linT(l.queryW, d, d, p + 'attention.self.query.weight', scaleQ),
          qB: vec(l.queryB, d, p + 'attention.self.query.bias', scaleQ),
          kT: linT(l.keyW, d, d, p + 'attention.self.key.weight'),
          kB: vec(l.keyB, d, p + 'attention.self.key.bias'),
          vT: linT(l.valueW, d, d, p + 'attention.self.value.weight'),
          vB: vec(l.valueB, d, p + 'attention.self.value.bias'),
          oT: linT(l.attnOutW, d, d, p + 'attention.output.dense.weight'),
          oB: vec(l.attnOutB, d, p + 'attention.output.dense.bias'),
          ln1G: vec(l.attnLnG, d, p + 'attention.output.LayerNorm.weight'),
          ln1B: vec(l.attnLnB, d, p + 'attention.output.LayerNorm.bias'),
          iT: linT(l.interW, f, d, p + 'intermediate.dense.weight'),
          iB: vec(l.interB, f, p + 'intermediate.dense.bias'),
          fT: linT(l.outW, d, f, p + 'output.dense.weight'),
          fB: vec(l.outB, d, p + 'output.dense.bias'),
          ln2G: vec(l.outLnG, d, p + 'output.LayerNorm.weight'),
          ln2B: vec(l.outLnB, d, p + 'output.LayerNorm.bias'),
        };
      });
      const pooler = w.poolerW && w.poolerB
        ? { wT: linT(w.poolerW, d, d, 'pooler.dense.weight'), b: vec(w.poolerB, d, 'pooler.dense.bias') }
        : undefined;
      return new Encoder(
        c,
        mat(w.wordEmb, c.vocabSize, d, 'embeddings.word_embeddings.weight'),
        mat(w.posEmb, c.maxPositions, d, 'embeddings.position_embeddings.weight'),
        mat(w.typeEmb, c.typeVocabSize, d, 'embeddings.token_type_embeddings.weight'),
        vec(w.embLnG, d, 'embeddings.LayerNorm.weight'),
        vec(w.embLnB, d, 'embeddings.LayerNorm.bias'),
        layers,
        pooler,
      );
    } catch (err) {
      for (const t of created) t.dispose();
      throw err;
    }
  }

  /** Whether the checkpoint carried pooler weights (the `pooler` pooling needs them). */
  get hasPooler(): boolean {
    return this.pooler !== undefined;
  }

  /** The longest sequence (special tokens included) the position table allows ({@link maxSequenceLength}). */
  get maxSequence(): number {
    return maxSequenceLength(this.config);
  }

  /**
   * Runs the encoder on one padded batch, up to the deepest layer needed (all of them when
   * `pooler` is requested), and returns the requested poolings. Device memory is released before
   * returning, also on error, so the tensor count does not grow across calls.
   *
   * RoBERTa position ids follow transformers' create_position_ids_from_input_ids: they count the
   * tokens whose id is not `padTokenId`, starting at `padTokenId + 1`; BERT's are 0..seq-1.
   * A padded row gives the same vectors (to float32 rounding) as the same sentence alone.
   * An empty batch (batch 0) returns empty arrays.
   * @throws ExtractError for a layer outside 0..numLayers, unsorted or repeated layers or
   *   poolings, `pooler` without pooler weights, token or type ids outside the model's tables,
   *   a sequence longer than {@link Encoder.maxSequence}, or a malformed batch
   */
  async encode(batch: TokenBatch, req: EncodeRequest): Promise<EncodeResult> {
    if (this.disposed) throw new Error('Encoder used after dispose()');
    const c = this.config;
    const d = c.hiddenSize;
    this.checkRequest(req);
    this.checkBatch(batch);
    const { batch: B, seq: T } = batch;
    const wantLayers = req.poolings.some((p) => p !== 'pooler');
    const wantPooler = req.poolings.includes('pooler');

    const pooled = new Map<Pooling, { data: Float32Array; layers: number }>();
    if (B === 0) {
      for (const p of req.poolings) {
        const layers = p === 'pooler' ? 1 : req.layers.length;
        pooled.set(p, { data: new Float32Array(0), layers });
      }
      return { pooled };
    }
    const depth = Math.max(wantPooler ? c.numLayers : 0, wantLayers && req.layers.length ? req.layers[req.layers.length - 1] : 0);
    const wanted = new Set(wantLayers ? req.layers : []);

    const keep: tf.Tensor[] = [];
    const hold = <X extends tf.Tensor>(t: X): X => {
      keep.push(t);
      return t;
    };
    const perPooling = new Map<Pooling, tf.Tensor2D[]>();
    for (const p of req.poolings) perPooling.set(p, []);
    try {
      const positions = this.positionIds(batch);
      const clsIdx = hold(tf.tensor1d(Int32Array.from({ length: B }, (_, b) => b * T), 'int32'));
      // additive attention bias [B, 1, 1, T]; mask and counts for the mean [B, T, 1], [B, 1]
      const maskF = Float32Array.from(batch.mask, (m) => (m ? 1 : 0));
      const bias = hold(tf.tensor4d(maskF.map((m) => (m ? 0 : MASKED)), [B, 1, 1, T]));
      const meanW = req.poolings.includes('mean') ? hold(tf.tidy(() => {
        const m = tf.tensor3d(maskF, [B, T, 1]);
        return tf.div(m, tf.maximum(tf.sum(m, 1, true), MIN_COUNT)) as tf.Tensor3D;
      })) : undefined;

      let h = tf.tidy(() => {
        const ids = tf.tensor1d(batch.ids, 'int32');
        const pos = tf.tensor1d(positions, 'int32');
        const types = tf.tensor1d(batch.typeIds, 'int32');
        const x = tf.addN([tf.gather(this.wordEmb, ids), tf.gather(this.posEmb, pos), tf.gather(this.typeEmb, types)]);
        return layerNorm(x as tf.Tensor2D, this.embLnG, this.embLnB, c.layerNormEps);
      });
      try {
        for (let l = 0; l <= depth; l++) {
          if (l > 0) {
            const prev = h;
            h = tf.tidy(() => this.layer(prev, this.layers[l - 1], bias, B, T));
            prev.dispose();
          }
          if (wanted.has(l)) {
            const cur = h;
            const cls = perPooling.get('cls');
            if (cls) cls.push(hold(tf.tidy(() => tf.gather(cur, clsIdx))));
            const mean = perPooling.get('mean');
            if (mean && meanW) {
              mean.push(hold(tf.tidy(() => tf.sum(tf.mul(tf.reshape(cur, [B, T, d]), meanW), 1) as tf.Tensor2D)));
            }
          }
        }
        const pool = perPooling.get('pooler');
        if (pool) {
          const pw = this.pooler;
          if (!pw) throw new ExtractError('pooler requested but the checkpoint has no pooler weights');
          const cur = h;
          pool.push(hold(tf.tidy(() => tf.tanh(tf.fused.matMul({ a: tf.gather(cur, clsIdx), b: pw.wT, bias: pw.b })) as tf.Tensor2D)));
        }
      } finally {
        h.dispose();
      }

      for (const [p, list] of perPooling) {
        const nl = list.length;
        let data: Float32Array;
        if (nl === 0) {
          data = new Float32Array(0);
        } else {
          // [B, nl, d] row-major, the layout callers write straight into .npy rows
          const stacked = nl === 1 ? list[0] : hold(tf.tidy(() => tf.stack(list, 1)));
          data = (await stacked.data()) as Float32Array;
        }
        pooled.set(p, { data, layers: p === 'pooler' ? 1 : nl });
      }
      return { pooled };
    } finally {
      for (const t of keep) t.dispose();
    }
  }

  /** Frees the device weights; the encoder cannot be used afterwards. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const all: tf.Tensor[] = [this.wordEmb, this.posEmb, this.typeEmb, this.embLnG, this.embLnB];
    for (const l of this.layers) all.push(...Object.values(l));
    if (this.pooler) all.push(this.pooler.wT, this.pooler.b);
    for (const t of all) t.dispose();
  }

  /** One transformer layer over [B*T, d] token states. Call inside tf.tidy. */
  private layer(x: tf.Tensor2D, w: DeviceLayer, bias: tf.Tensor4D, B: number, T: number): tf.Tensor2D {
    const c = this.config;
    const d = c.hiddenSize;
    const H = c.numHeads;
    const dh = d / H;
    const dense = (a: tf.Tensor2D, b: tf.Tensor2D, bb: tf.Tensor1D) => tf.fused.matMul({ a, b, bias: bb }) as tf.Tensor2D;
    // heads: [B*T, d] -> [B, T, H, dh] -> [B, H, T, dh]; keys directly to [B, H, dh, T] so that
    // both attention products are untransposed batched matMuls
    const q = tf.transpose(tf.reshape(dense(x, w.qT, w.qB), [B, T, H, dh]), [0, 2, 1, 3]);
    const k = tf.transpose(tf.reshape(dense(x, w.kT, w.kB), [B, T, H, dh]), [0, 2, 3, 1]);
    const v = tf.transpose(tf.reshape(dense(x, w.vT, w.vB), [B, T, H, dh]), [0, 2, 1, 3]);
    const probs = tf.softmax(tf.add(tf.matMul(q, k), bias));
    const ctx = tf.reshape(tf.transpose(tf.matMul(probs, v), [0, 2, 1, 3]), [B * T, d]) as tf.Tensor2D;
    const a = layerNorm(tf.add(dense(ctx, w.oT, w.oB), x), w.ln1G, w.ln1B, c.layerNormEps);
    let inter: tf.Tensor2D;
    if (c.hiddenAct === 'relu') {
      inter = tf.fused.matMul({ a, b: w.iT, bias: w.iB, activation: 'relu' }) as tf.Tensor2D;
    } else {
      const z = dense(a, w.iT, w.iB);
      inter = c.hiddenAct === 'gelu' ? geluErf(z) : geluTanh(z);
    }
    return layerNorm(tf.add(dense(inter, w.fT, w.fB), a), w.ln2G, w.ln2B, c.layerNormEps);
  }

  private positionIds(batch: TokenBatch): Int32Array {
    const { batch: B, seq: T, ids } = batch;
    const out = new Int32Array(B * T);
    if (this.config.modelType === 'roberta') {
      const pad = this.config.padTokenId;
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

  private checkRequest(req: EncodeRequest): void {
    const L = this.config.numLayers;
    const poolings = new Set<string>();
    for (const p of req.poolings) {
      if (p !== 'cls' && p !== 'pooler' && p !== 'mean') {
        throw new ExtractError(`unknown pooling '${String(p)}': use cls, pooler or mean`);
      }
      if (poolings.has(p)) throw new ExtractError(`pooling '${p}' requested twice`);
      poolings.add(p);
    }
    if (poolings.has('pooler') && !this.pooler) {
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

  private checkBatch(batch: TokenBatch): void {
    const c = this.config;
    const { batch: B, seq: T } = batch;
    const n = B * T;
    if (!Number.isInteger(B) || !Number.isInteger(T) || B < 0 || T < 0 ||
        batch.ids.length !== n || batch.mask.length !== n || batch.typeIds.length !== n) {
      throw new ExtractError(`malformed token batch: ${B} x ${T} with ${batch.ids.length} ids, ` +
        `${batch.mask.length} mask and ${batch.typeIds.length} type entries`);
    }
    if (B > 0 && T === 0) throw new ExtractError('empty token sequences: every row needs at least one token');
    if (T > this.maxSequence) {
      throw new ExtractError(`a sequence of ${T} tokens is longer than this model's ${this.maxSequence} positions; truncate it`);
    }
    for (let i = 0; i < n; i++) {
      const id = batch.ids[i];
      if (id < 0 || id >= c.vocabSize) {
        throw new ExtractError(`token id ${id} is outside the vocabulary (size ${c.vocabSize}): tokenizer and model do not match`);
      }
      const ty = batch.typeIds[i];
      if (ty < 0 || ty >= c.typeVocabSize) {
        throw new ExtractError(`token type id ${ty} is outside this model's ${c.typeVocabSize} type(s)`);
      }
    }
  }
}

function layerNorm(x: tf.Tensor2D, g: tf.Tensor1D, b: tf.Tensor1D, eps: number): tf.Tensor2D {
  const mean = tf.mean(x, -1, true);
  const xc = tf.sub(x, mean);
  const variance = tf.mean(tf.square(xc), -1, true);
  return tf.add(tf.mul(tf.mul(xc, tf.rsqrt(tf.add(variance, eps))), g), b);
}

/** transformers' "gelu": exact, 0.5 x (1 + erf(x / sqrt 2)). */
function geluErf(x: tf.Tensor2D): tf.Tensor2D {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}

/**
 * transformers' "gelu_new" / "gelu_pytorch_tanh": 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))),
 * computed as x sigmoid(2 sqrt(2/pi) (x + 0.044715 x^3)), the same function: sigmoid is several
 * times cheaper than tanh on the wasm backend and avoids 1 + tanh's cancellation for x << 0.
 */
function geluTanh(x: tf.Tensor2D): tf.Tensor2D {
  const a = 2 * Math.sqrt(2 / Math.PI);
  const inner = tf.mul(x, tf.add(tf.mul(tf.square(x), a * 0.044715), a));
  return tf.mul(x, tf.sigmoid(inner));
}
