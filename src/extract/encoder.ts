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
import {
  checkBatch, checkEncoderWeights, checkRequest, emptyResult, encodePlan, MASKED, MIN_COUNT, positionIds,
  type EncodeRequest, type EncodeResult, type Pooling,
} from './encode-request.js';
import { maxSequenceLength, type Checkpoint, type EncoderConfig, type HostTensor, type TokenBatch } from './types.js';

export type { EncodeRequest, EncodeResult, Pooling } from './encode-request.js';

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
 * A checkpoint's weights on the current tfjs backend, and the forward pass over them.
 * Not safe for concurrent {@link Encoder.encode} calls on different backends; one process-wide
 * backend (see `initBackend`, with a tfjs backend name) is assumed.
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
    /** Attention as one 2-D product per (sentence, head) instead of one batched 4-D product. */
    private readonly perHeadAttention: boolean,
  ) {}

  /**
   * Checks every weight's shape against the config and uploads the weights to the current tfjs
   * backend once (call `initBackend` first). Linear weights are transposed here, and the query
   * projection is pre-scaled by 1/sqrt(head size), so the hot path is plain matMuls.
   * Device memory: about the checkpoint's float32 size (440 MB for BERT-base).
   * @throws ExtractError when a shape disagrees with the config or the config is unusable
   */
  static create(ckpt: Checkpoint): Encoder {
    checkEncoderWeights(ckpt);
    const c = ckpt.config;
    const w = ckpt.weights;
    const d = c.hiddenSize;
    const scaleQ = 1 / Math.sqrt(d / c.numHeads);
    const created: tf.Tensor[] = [];
    const vec = (t: HostTensor, scale = 1): tf.Tensor1D => {
      const data = scale === 1 ? t.data : t.data.map((v) => v * scale);
      const out = tf.tensor1d(data, 'float32');
      created.push(out);
      return out;
    };
    const mat = (t: HostTensor): tf.Tensor2D => {
      const out = tf.tensor2d(t.data, t.shape as [number, number], 'float32');
      created.push(out);
      return out;
    };
    /** HF Linear [out, in] -> [in, out], optionally scaled. */
    const linT = (t: HostTensor, scale = 1): tf.Tensor2D => {
      const [out, inp] = t.shape;
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
      const layers = w.layers.map((l): DeviceLayer => ({
        qT: linT(l.queryW, scaleQ), qB: vec(l.queryB, scaleQ),
        kT: linT(l.keyW), kB: vec(l.keyB),
        vT: linT(l.valueW), vB: vec(l.valueB),
        oT: linT(l.attnOutW), oB: vec(l.attnOutB),
        ln1G: vec(l.attnLnG), ln1B: vec(l.attnLnB),
        iT: linT(l.interW), iB: vec(l.interB),
        fT: linT(l.outW), fB: vec(l.outB),
        ln2G: vec(l.outLnG), ln2B: vec(l.outLnB),
      }));
      const pooler = w.poolerW && w.poolerB ? { wT: linT(w.poolerW), b: vec(w.poolerB) } : undefined;
      // tfjs-wasm runs a batched (3-D/4-D) matMul in a plain scalar loop, about 10x slower than
      // the XNNPACK kernel it uses for a single 2-D product; the other backends batch well.
      const perHead = tf.getBackend() === 'wasm';
      return new Encoder(c, mat(w.wordEmb), mat(w.posEmb), mat(w.typeEmb), vec(w.embLnG), vec(w.embLnB), layers, pooler, perHead);
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
   * returning, also on error, so the tensor count does not grow across calls. Without the `mean`
   * pooling, the deepest layer is computed for each sentence's first token only (its keys and
   * values still come from every token), which is all `cls` and `pooler` read.
   *
   * Position ids: see `positionIds` (RoBERTa's skip padding, as in transformers).
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
    checkRequest(c, this.hasPooler, req);
    checkBatch(c, batch);
    const { batch: B, seq: T } = batch;
    if (B === 0) return emptyResult(req);
    const { depth, wanted, firstTokenOnlyAtDepth } = encodePlan(c, req);

    const pooled = new Map<Pooling, { data: Float32Array; layers: number }>();
    const keep: tf.Tensor[] = [];
    const hold = <X extends tf.Tensor>(t: X): X => {
      keep.push(t);
      return t;
    };
    const perPooling = new Map<Pooling, tf.Tensor2D[]>();
    for (const p of req.poolings) perPooling.set(p, []);
    try {
      const positions = positionIds(c, batch);
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
      // h holds B * T token rows, or B first-token rows once the first-token-only layer ran
      let firstOnly = false;
      try {
        for (let l = 0; l <= depth; l++) {
          if (l > 0) {
            const prev = h;
            const only = firstTokenOnlyAtDepth && l === depth && T > 1;
            h = tf.tidy(() => this.layer(prev, this.layers[l - 1], bias, B, T, only ? clsIdx : undefined));
            prev.dispose();
            firstOnly = only;
          }
          if (wanted.has(l)) {
            const cur = h;
            const cls = perPooling.get('cls');
            if (cls) cls.push(hold(firstOnly ? tf.clone(cur) : tf.tidy(() => tf.gather(cur, clsIdx))));
            const mean = perPooling.get('mean');
            if (mean && meanW) {
              mean.push(hold(tf.tidy(() => tf.sum(tf.mul(tf.reshape(cur, [B, T, d]), meanW), 1) as tf.Tensor2D)));
            }
          }
        }
        const pool = perPooling.get('pooler');
        if (pool) {
          const pw = this.pooler!;
          const cur = h;
          const first = firstOnly;
          pool.push(hold(tf.tidy(() => tf.tanh(tf.fused.matMul({ a: first ? cur : tf.gather(cur, clsIdx), b: pw.wT, bias: pw.b })) as tf.Tensor2D)));
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

  /**
   * One transformer layer over [B*T, d] token states. With `firstRows` (the row index of each
   * sentence's first token) only those rows get queries, output and feed-forward, and the result
   * is [B, d]. Call inside tf.tidy.
   */
  private layer(x: tf.Tensor2D, w: DeviceLayer, bias: tf.Tensor4D, B: number, T: number, firstRows?: tf.Tensor1D): tf.Tensor2D {
    const c = this.config;
    const d = c.hiddenSize;
    const H = c.numHeads;
    const dh = d / H;
    const Tq = firstRows ? 1 : T;
    const dense = (a: tf.Tensor2D, b: tf.Tensor2D, bb: tf.Tensor1D) => tf.fused.matMul({ a, b, bias: bb }) as tf.Tensor2D;
    const xq = firstRows ? tf.gather(x, firstRows) : x;
    // heads: [B*T, d] -> [B, T, H, dh] -> [B, H, T, dh]; keys directly to [B, H, dh, T] so that
    // both attention products are untransposed matMuls
    const q = tf.transpose(tf.reshape(dense(xq, w.qT, w.qB), [B, Tq, H, dh]), [0, 2, 1, 3]) as tf.Tensor4D;
    const k = tf.transpose(tf.reshape(dense(x, w.kT, w.kB), [B, T, H, dh]), [0, 2, 3, 1]) as tf.Tensor4D;
    const v = tf.transpose(tf.reshape(dense(x, w.vT, w.vB), [B, T, H, dh]), [0, 2, 1, 3]) as tf.Tensor4D;
    const heads = this.perHeadAttention ? attentionPerHead(q, k, v, bias) : tf.matMul(tf.softmax(tf.add(tf.matMul(q, k), bias)), v);
    const ctx = tf.reshape(tf.transpose(heads, [0, 2, 1, 3]), [B * Tq, d]) as tf.Tensor2D;
    const a = layerNorm(tf.add(dense(ctx, w.oT, w.oB), xq), w.ln1G, w.ln1B, c.layerNormEps);
    let inter: tf.Tensor2D;
    if (c.hiddenAct === 'relu') {
      inter = tf.fused.matMul({ a, b: w.iT, bias: w.iB, activation: 'relu' }) as tf.Tensor2D;
    } else {
      const z = dense(a, w.iT, w.iB);
      inter = c.hiddenAct === 'gelu' ? geluErf(z) : geluTanh(z);
    }
    return layerNorm(tf.add(dense(inter, w.fT, w.fB), a), w.ln2G, w.ln2B, c.layerNormEps);
  }
}

/**
 * softmax(q k + bias) v for q [B, H, Tq, dh], k [B, H, dh, T], v [B, H, T, dh], bias [B, 1, 1, T],
 * as one 2-D matMul per (sentence, head): the product tfjs-wasm hands to XNNPACK (its batched
 * matMul is a scalar loop, ~10x slower). The per-head operands are cut from host copies of q, k
 * and v (tfjs's unstack/slice of them costs more than the products), and the softmax runs once
 * over all heads. Returns [B, H, Tq, dh]. Call inside tf.tidy.
 */
function attentionPerHead(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, bias: tf.Tensor4D): tf.Tensor4D {
  const [B, H, Tq, dh] = q.shape;
  const T = k.shape[3];
  const qd = q.dataSync() as Float32Array, kd = k.dataSync() as Float32Array, vd = v.dataSync() as Float32Array;
  const product = (a: Float32Array, aShape: [number, number], b: Float32Array, bShape: [number, number], out: Float32Array, at: number): void => {
    const ta = tf.tensor2d(a, aShape), tb = tf.tensor2d(b, bShape);
    const y = tf.matMul(ta, tb);
    out.set(y.dataSync(), at);
    tf.dispose([ta, tb, y]);
  };
  const heads = B * H;
  const scores = new Float32Array(heads * Tq * T);
  for (let i = 0; i < heads; i++) {
    product(qd.subarray(i * Tq * dh, (i + 1) * Tq * dh), [Tq, dh], kd.subarray(i * dh * T, (i + 1) * dh * T), [dh, T], scores, i * Tq * T);
  }
  const probs = tf.softmax(tf.add(tf.tensor4d(scores, [B, H, Tq, T]), bias)).dataSync() as Float32Array;
  const ctx = new Float32Array(heads * Tq * dh);
  for (let i = 0; i < heads; i++) {
    product(probs.subarray(i * Tq * T, (i + 1) * Tq * T), [Tq, T], vd.subarray(i * T * dh, (i + 1) * T * dh), [T, dh], ctx, i * Tq * dh);
  }
  return tf.tensor4d(ctx, [B, H, Tq, dh]);
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
