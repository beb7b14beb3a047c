import type { EmbeddingSource } from '../io/index.js';
import { eigh, matmul } from '../linalg/index.js';
import { PartitionSums, avgCosine, finiteRows, partitionIsotropy, secondMoment, type Moments } from '../stats/index.js';
import type { AffineMap } from '../transforms/index.js';

/** One view of the rows in the second pass: the input itself (no map) or a transform of it. */
export interface PassView {
  map: AffineMap | null;
  moments: Moments;
  /** also compute the average cosine of the mapped rows (the first pass has it for the raw rows) */
  cosine: boolean;
}

export interface SecondPassResult {
  partitionIsotropy: number;
  avgCosine: number | null;
}

/**
 * Rereads the rows once and computes, for every view, I(W) and the average cosine.
 *
 * For a view with map x -> (x - t) A and eigenvectors V of its second moment W'^T W' (derived from
 * the moments, no reading needed), the projections `w' V = x (A V) - t (A V)` give both measures:
 * the c . w' of Z(c) for c = +-v_k, and, since V is orthogonal, |w'| and sum_i w'_i / |w'_i| in the
 * V basis. One d x d' product per view and block, the transformed rows are never formed.
 */
export async function secondPass(
  source: EmbeddingSource,
  views: PassView[],
  opts: { dropNonfinite: boolean; blockRows?: number; onRows?: (done: number) => void },
): Promise<SecondPassResult[]> {
  const d = source.dims;
  const plans = views.map((v) => {
    const e = v.moments.dims;
    const vecs = eigh(secondMoment(v.moments), e, { vectors: true }).vectors!;
    let dir: Float64Array;
    let offset: Float64Array | null = null;
    if (!v.map) dir = vecs;
    else if (v.map.kind === 'diagonal') {
      const a = v.map.scale;
      dir = Float64Array.from(vecs, (x, idx) => x * a[Math.floor(idx / e)]);
    } else {
      dir = matmul(v.map.matrix, d, e, vecs, e);
      offset = matmul(v.map.shift, 1, d, dir, e);
    }
    return { e, dir, offset, sums: new PartitionSums(e), unit: new Float64Array(e), nonzero: 0, cosine: v.cosine };
  });
  let done = 0;
  for await (const block of source.blocks({ blockRows: opts.blockRows })) {
    const { data, rows } = finiteRows(block.data, block.rows, d, block.start, opts.dropNonfinite);
    for (const p of plans) {
      const proj = matmul(data, rows, d, p.dir, p.e);
      if (p.offset) {
        for (let r = 0; r < rows; r++) for (let c = 0; c < p.e; c++) proj[r * p.e + c] -= p.offset[c];
      }
      p.sums.add(proj, rows);
      if (!p.cosine) continue;
      for (let r = 0; r < rows; r++) {
        const o = r * p.e;
        let ss = 0;
        for (let c = 0; c < p.e; c++) ss += proj[o + c] * proj[o + c];
        if (ss === 0) continue;
        p.nonzero++;
        const inv = 1 / Math.sqrt(ss);
        for (let c = 0; c < p.e; c++) p.unit[c] += proj[o + c] * inv;
      }
    }
    done += block.rows;
    opts.onRows?.(done);
  }
  return plans.map((p) => ({
    partitionIsotropy: partitionIsotropy(p.sums.logZ()),
    avgCosine: p.cosine ? avgCosine(p.unit, p.nonzero) : null,
  }));
}
