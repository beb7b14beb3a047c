/**
 * Test-only: a plain float64 forward pass written with loops, no tfjs, as a second reference next
 * to numpy's expected.json.
 */
import type { Checkpoint, HostTensor, TokenBatch } from '../../src/extract/types.ts';

/** Float64 outputs of {@link referenceForward}; vectors are [batch][d]. */
export interface ReferenceOutput {
  /** cls[layer][row]: first-token hidden state, layers 0..L */
  cls: Float64Array[][];
  /** mean[layer][row]: masked mean over real tokens, layers 0..L */
  mean: Float64Array[][];
  /** pooler[row], or undefined without pooler weights */
  pooler: Float64Array[] | undefined;
}

/**
 * The encoder forward pass in float64 with loops, one sentence at a time over its real tokens
 * only (so padding never enters; a different route to the same numbers than the masked batch).
 */
export function referenceForward(ckpt: Checkpoint, batch: TokenBatch): ReferenceOutput {
  const c = ckpt.config;
  const w = ckpt.weights;
  const d = c.hiddenSize, H = c.numHeads, dh = d / H, f = c.intermediateSize;
  const out: ReferenceOutput = {
    cls: Array.from({ length: c.numLayers + 1 }, () => []),
    mean: Array.from({ length: c.numLayers + 1 }, () => []),
    pooler: w.poolerW ? [] : undefined,
  };
  const linear = (x: Float64Array, n: number, inp: number, W: HostTensor, b: HostTensor, outDim: number): Float64Array => {
    const y = new Float64Array(n * outDim);
    for (let r = 0; r < n; r++) {
      for (let o = 0; o < outDim; o++) {
        let s = b.data[o];
        for (let i = 0; i < inp; i++) s += x[r * inp + i] * W.data[o * inp + i];
        y[r * outDim + o] = s;
      }
    }
    return y;
  };
  const layerNorm = (x: Float64Array, n: number, g: HostTensor, b: HostTensor): Float64Array => {
    const y = new Float64Array(n * d);
    for (let r = 0; r < n; r++) {
      let mu = 0;
      for (let j = 0; j < d; j++) mu += x[r * d + j];
      mu /= d;
      let v = 0;
      for (let j = 0; j < d; j++) v += (x[r * d + j] - mu) ** 2;
      const inv = 1 / Math.sqrt(v / d + c.layerNormEps);
      for (let j = 0; j < d; j++) y[r * d + j] = (x[r * d + j] - mu) * inv * g.data[j] + b.data[j];
    }
    return y;
  };
  const act = (v: number): number => {
    if (c.hiddenAct === 'relu') return Math.max(v, 0);
    if (c.hiddenAct === 'gelu_new') return 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
    return 0.5 * v * (1 + erf(v / Math.SQRT2));
  };

  for (let b = 0; b < batch.batch; b++) {
    // the real tokens of this row, in order
    const tok: number[] = [];
    for (let t = 0; t < batch.seq; t++) if (batch.mask[b * batch.seq + t]) tok.push(b * batch.seq + t);
    const n = tok.length;
    let x: Float64Array = new Float64Array(n * d);
    let count = 0;
    for (let r = 0; r < n; r++) {
      const i = tok[r];
      const id = batch.ids[i];
      let pos: number;
      if (c.modelType === 'roberta') pos = id === c.padTokenId ? c.padTokenId : c.padTokenId + ++count;
      else pos = i - b * batch.seq;
      for (let j = 0; j < d; j++) {
        x[r * d + j] = w.wordEmb.data[id * d + j] + w.posEmb.data[pos * d + j] + w.typeEmb.data[batch.typeIds[i] * d + j];
      }
    }
    x = layerNorm(x, n, w.embLnG, w.embLnB);
    const record = (layer: number, h: Float64Array) => {
      out.cls[layer].push(h.slice(0, d));
      const m = new Float64Array(d);
      for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) m[j] += h[r * d + j] / n;
      out.mean[layer].push(m);
    };
    record(0, x);
    for (let l = 0; l < c.numLayers; l++) {
      const L = w.layers[l];
      const q = linear(x, n, d, L.queryW, L.queryB, d);
      const k = linear(x, n, d, L.keyW, L.keyB, d);
      const v = linear(x, n, d, L.valueW, L.valueB, d);
      const ctx = new Float64Array(n * d);
      const s = new Float64Array(n);
      for (let h = 0; h < H; h++) {
        for (let r = 0; r < n; r++) {
          let max = -Infinity;
          for (let u = 0; u < n; u++) {
            let dot = 0;
            for (let e = 0; e < dh; e++) dot += q[r * d + h * dh + e] * k[u * d + h * dh + e];
            s[u] = dot / Math.sqrt(dh);
            if (s[u] > max) max = s[u];
          }
          let z = 0;
          for (let u = 0; u < n; u++) z += (s[u] = Math.exp(s[u] - max));
          for (let u = 0; u < n; u++) {
            const p = s[u] / z;
            for (let e = 0; e < dh; e++) ctx[r * d + h * dh + e] += p * v[u * d + h * dh + e];
          }
        }
      }
      const ao = linear(ctx, n, d, L.attnOutW, L.attnOutB, d);
      for (let i = 0; i < n * d; i++) ao[i] += x[i];
      const a = layerNorm(ao, n, L.attnLnG, L.attnLnB);
      const inter = linear(a, n, d, L.interW, L.interB, f).map(act);
      const o = linear(inter, n, f, L.outW, L.outB, d);
      for (let i = 0; i < n * d; i++) o[i] += a[i];
      x = layerNorm(o, n, L.outLnG, L.outLnB);
      record(l + 1, x);
    }
    if (out.pooler && w.poolerW && w.poolerB) {
      out.pooler.push(linear(x.slice(0, d), 1, d, w.poolerW, w.poolerB, d).map(Math.tanh));
    }
  }
  return out;
}

/** erf to ~1e-16 relative: Taylor series near 0, continued fraction for erfc beyond. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // erf(x) = 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1))
    let term = ax, sum = ax;
    for (let n = 1; n < 200; n++) {
      term *= -ax * ax / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (ax > 6) return Math.sign(x);
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))), evaluated backwards
  let fr = 0;
  for (let k = 60; k >= 1; k--) fr = (k / 2) / (ax + fr);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + fr);
  return Math.sign(x) * (1 - erfc);
}

/** Largest |a - b| over the largest |b| (1 when b is all zeros). */
export function relMaxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let diff = 0, scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / (scale || 1);
}
