/**
 * The BERT / RoBERTa forward pass on the native OpenBLAS addon, in float32: the same semantics as
 * the tfjs `Encoder` (shared checks, position ids, mask bias and poolings from `encode-request.ts`)
 * with each transformer layer one call into `encoderLayer` (cblas_sgemm for every product,
 * OpenBLAS's threads, vectorised C for the element-wise steps). No tfjs involved.
 */
import {
  checkBatch, checkEncoderWeights, checkRequest, emptyResult, encodePlan, MASKED, MIN_COUNT, positionIds,
  type EncodeRequest, type EncodeResult, type Pooling,
} from './encode-request.js';
import { encoderKernelsUnavailableReason, loadEncoderKernels, NATIVE_ACT, type EncoderKernels, type NativeLayerWeights } from './native-kernels.js';
import { ExtractError, maxSequenceLength, type Checkpoint, type EncoderConfig, type HostTensor, type TokenBatch } from './types.js';

/** Options of {@link NativeEncoder.create}. */
export interface NativeEncoderOptions {
  /** OpenBLAS threads (process-wide setting); default: leave OpenBLAS's count (OPENBLAS_NUM_THREADS, else the cores) */
  threads?: number;
}

/** A checkpoint's weights in host memory and the native forward pass over them. */
export class NativeEncoder {
  private disposed = false;
  /** Scratch of `encoderLayer`, grown to the largest batch seen. */
  private work = new Float32Array(0);

  private constructor(
    /** The model configuration the weights were checked against. */
    readonly config: EncoderConfig,
    private readonly kernels: EncoderKernels,
    private readonly emb: { word: Float32Array; pos: Float32Array; type: Float32Array; lnG: Float32Array; lnB: Float32Array },
    private readonly layers: NativeLayerWeights[],
    private readonly pooler: { w: Float32Array; b: Float32Array } | undefined,
  ) {}

  /**
   * Checks the weights against the config and arranges them for the kernels: query, key and value
   * stacked into one [3d, d] matrix (queries pre-scaled by 1/sqrt(head size)); every other weight
   * is used in place, without a copy. Host memory: the checkpoint's float32 size plus 3d² floats
   * per layer.
   * @throws ExtractError when the addon or its encoder kernels are unavailable, a shape disagrees
   *   with the config, or `threads` is not a whole number >= 1
   */
  static create(ckpt: Checkpoint, opts: NativeEncoderOptions = {}): NativeEncoder {
    const kernels = loadEncoderKernels();
    if (!kernels) throw new ExtractError(`cannot use the 'native' backend: ${encoderKernelsUnavailableReason()}`);
    checkEncoderWeights(ckpt);
    if (opts.threads !== undefined) {
      if (!Number.isInteger(opts.threads) || opts.threads < 1) throw new ExtractError(`threads must be a whole number >= 1, got ${opts.threads}`);
      kernels.blasThreads(opts.threads);
    }
    const c = ckpt.config;
    const w = ckpt.weights;
    const d = c.hiddenSize;
    const scaleQ = 1 / Math.sqrt(d / c.numHeads);
    const stack = (parts: HostTensor[], scale0: number): Float32Array => {
      const out = new Float32Array(parts.reduce((n, p) => n + p.data.length, 0));
      let at = 0;
      parts.forEach((p, i) => {
        if (i === 0 && scale0 !== 1) for (let j = 0; j < p.data.length; j++) out[at + j] = p.data[j] * scale0;
        else out.set(p.data, at);
        at += p.data.length;
      });
      return out;
    };
    const layers = w.layers.map((l): NativeLayerWeights => ({
      qkvW: stack([l.queryW, l.keyW, l.valueW], scaleQ),
      qkvB: stack([l.queryB, l.keyB, l.valueB], scaleQ),
      oW: l.attnOutW.data, oB: l.attnOutB.data,
      ln1G: l.attnLnG.data, ln1B: l.attnLnB.data,
      iW: l.interW.data, iB: l.interB.data,
      fW: l.outW.data, fB: l.outB.data,
      ln2G: l.outLnG.data, ln2B: l.outLnB.data,
    }));
    const emb = { word: w.wordEmb.data, pos: w.posEmb.data, type: w.typeEmb.data, lnG: w.embLnG.data, lnB: w.embLnB.data };
    const pooler = w.poolerW && w.poolerB ? { w: w.poolerW.data, b: w.poolerB.data } : undefined;
    return new NativeEncoder(c, kernels, emb, layers, pooler);
  }

  /** Whether the checkpoint carried pooler weights (the `pooler` pooling needs them). */
  get hasPooler(): boolean {
    return this.pooler !== undefined;
  }

  /** The longest sequence (special tokens included) the position table allows ({@link maxSequenceLength}). */
  get maxSequence(): number {
    return maxSequenceLength(this.config);
  }

  /** OpenBLAS's current thread count. */
  get threads(): number {
    return this.kernels.blasThreads();
  }

  /**
   * Same contract as the tfjs `Encoder.encode`: one padded batch in, the requested poolings out
   * (float32, `batch x layers x hiddenSize`), an empty batch gives empty arrays. Runs synchronously
   * inside (the promise is for interface parity). The `mean` is accumulated in float64.
   * @throws ExtractError for a bad request or batch (the same checks and messages as `Encoder`)
   */
  async encode(batch: TokenBatch, req: EncodeRequest): Promise<EncodeResult> {
    if (this.disposed) throw new Error('NativeEncoder used after dispose()');
    const c = this.config;
    checkRequest(c, this.hasPooler, req);
    checkBatch(c, batch);
    const { batch: B, seq: T } = batch;
    if (B === 0) return emptyResult(req);
    const { depth, wanted, firstTokenOnlyAtDepth } = encodePlan(c, req);
    const d = c.hiddenSize;
    const k = this.kernels;

    const x = this.embed(batch);
    const keyBias = Float32Array.from(batch.mask, (m) => (m ? 0 : MASKED));
    const need = k.encoderWorkspace(B, T, d, c.intermediateSize);
    if (this.work.length < need) this.work = new Float32Array(need);

    const outLayers = req.layers.length;
    const cls = req.poolings.includes('cls') ? new Float32Array(B * outLayers * d) : undefined;
    const mean = req.poolings.includes('mean') ? new Float32Array(B * outLayers * d) : undefined;
    let firstOnly = false; // x holds B first-token rows once the first-token-only layer ran
    let slot = 0;
    for (let l = 0; l <= depth; l++) {
      if (l > 0) {
        firstOnly = firstTokenOnlyAtDepth && l === depth && T > 1;
        k.encoderLayer(x, B, T, c.numHeads, this.layers[l - 1], keyBias, NATIVE_ACT[c.hiddenAct], c.layerNormEps, this.work, firstOnly);
      }
      if (!wanted.has(l)) continue;
      for (let b = 0; b < B; b++) {
        const dst = (b * outLayers + slot) * d;
        if (cls) cls.set(x.subarray((firstOnly ? b : b * T) * d, (firstOnly ? b + 1 : b * T + 1) * d), dst);
        if (mean) meanRow(x, batch.mask, b, T, d, mean, dst);
      }
      slot++;
    }

    const pooled = new Map<Pooling, { data: Float32Array; layers: number }>();
    for (const p of req.poolings) {
      if (p === 'cls') pooled.set(p, { data: cls!, layers: outLayers });
      else if (p === 'mean') pooled.set(p, { data: mean!, layers: outLayers });
      else {
        const first = firstOnly ? x.subarray(0, B * d) : new Float32Array(B * d);
        if (!firstOnly) for (let b = 0; b < B; b++) first.set(x.subarray(b * T * d, (b * T + 1) * d), b * d);
        const out = new Float32Array(B * d);
        k.linearF32(first, B, this.pooler!.w, this.pooler!.b, out);
        for (let i = 0; i < out.length; i++) out[i] = Math.tanh(out[i]);
        pooled.set(p, { data: out, layers: 1 });
      }
    }
    return { pooled };
  }

  /** Drops the weights and the workspace; the encoder cannot be used afterwards. Idempotent. */
  dispose(): void {
    this.disposed = true;
    this.layers.length = 0;
    this.work = new Float32Array(0);
  }

  /** Word + position + type embeddings, then the embedding LayerNorm: [B*T, d]. */
  private embed(batch: TokenBatch): Float32Array {
    const c = this.config;
    const d = c.hiddenSize;
    const { word, pos, type, lnG, lnB } = this.emb;
    const positions = positionIds(c, batch);
    const n = batch.batch * batch.seq;
    const x = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      const wo = batch.ids[i] * d, po = positions[i] * d, to = batch.typeIds[i] * d, xo = i * d;
      for (let j = 0; j < d; j++) x[xo + j] = word[wo + j] + pos[po + j] + type[to + j];
    }
    this.kernels.layerNormRows(x, n, lnG, lnB, c.layerNormEps);
    return x;
  }
}

/** out[dst..dst+d) = the mean of sentence b's real-token rows of x, in float64 (count clamped like the tfjs path). */
function meanRow(x: Float32Array, mask: Int32Array, b: number, T: number, d: number, out: Float32Array, dst: number): void {
  const acc = new Float64Array(d);
  let count = 0;
  for (let t = 0; t < T; t++) {
    if (!mask[b * T + t]) continue;
    count++;
    const o = (b * T + t) * d;
    for (let j = 0; j < d; j++) acc[j] += x[o + j];
  }
  const inv = 1 / Math.max(count, MIN_COUNT);
  for (let j = 0; j < d; j++) out[dst + j] = acc[j] * inv;
}
