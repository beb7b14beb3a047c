import { addGramUpper, symmetrizeUpper, type RowData } from '../linalg/index.js';
import { f64ToBase64 } from './base64.js';
import { StatsError } from './errors.js';
import { finiteRows, type FiniteRows } from './finite.js';
import { STATS_SCHEMA, checkStatsJSON } from './stats-json.js';

/**
 * Where the rows of an accumulator came from: one entry per shard, carried through JSON and
 * merges. Besides provenance it is the shard's identity: the same shard given twice, or two
 * shards that share rows, are refused by `merge` instead of being counted twice.
 */
export interface StatsSource {
  /** the path as given to `isotropy stats` */
  path: string;
  /** rows of the file (of its layer, for (n, L, d) files) */
  rows: number;
  dtype?: string;
  layer?: number | null;
  /** absolute path of the file when the shard was made */
  resolved?: string;
  /** the file's size and first bytes, hashed: what makes two shards parts of the same file */
  fingerprint?: string;
  /** rows `[start, end)` of the file in this shard (absent: all rows) */
  range?: [number, number];
  /** `--shard i/N`: this shard is part i (0-based) of N */
  part?: [number, number];
  /** rows of this shard used (finite) and dropped for NaN/Inf */
  count?: number;
  nonfiniteRows?: number;
  /** sha256 (hex) of the shard's statistics (`statsDigest`) */
  stats?: string;
  /** the shard's id: a digest of its file, range and statistics (32 hex digits) */
  id?: string;
}

/** The versioned JSON form of a {@link StatsAccumulator} (`isotropy stats --save`). */
export interface StatsJSON {
  schema: 'isotropy.stats/v1';
  dims: number;
  count: number;
  nonfiniteRows: number;
  zeroRows: number;
  /** base64 of little-endian float64 values */
  mean: string;
  /** upper triangle of the centered co-moment matrix, row by row (d(d+1)/2 values), base64 f64 */
  comoment: string;
  unitSum: string;
  /**
   * per-dimension sum of squared unit-row components, sum_k u_ki^2 (rogue dimensions); base64 f64.
   * Absent in files written before it existed: such files load with `unitSq` null.
   */
  unitSq?: string;
  min: string;
  max: string;
  sources: StatsSource[];
}

/**
 * A fused first-pass kernel (a backend's momentsBlock): adds a block of finite rows to the
 * accumulator's mean, co-moments, unit sums, min and max in place (not to `count`) and returns the
 * number of all-zero rows.
 */
export type MomentsKernel = (x: RowData, rows: number, dims: number, acc: StatsAccumulator) => number;

/** A co-moment kernel: `out[i][j] += sum_r x[r][i] x[r][j]` for i <= j (linalg's addGramUpper or a backend's). */
export type GramKernel = (x: Float64Array, rows: number, dims: number, out: Float64Array) => void;

export { STATS_SCHEMA };

/**
 * One-pass sufficient statistics of a set of d-dimensional rows.
 *
 * Keeps, in float64: the row count, the mean, the centered co-moment matrix
 * `M = sum_i (x_i - mean)(x_i - mean)^T` (each block is centered on its own mean, then merged with
 * the pairwise update of Chan, Golub & LeVeque, which stays accurate when the mean is large against
 * the spread), the sum of unit-normalized rows (for the exact average cosine), per-dimension
 * min/max, and counts of rows dropped for NaN/Inf and of all-zero rows.
 *
 * Accumulators of disjoint shards {@link merge} into the accumulator of their union, and survive a
 * round trip through {@link toJSON}/{@link fromJSON} bit for bit.
 */
export class StatsAccumulator {
  /** rows accepted (finite) */
  count = 0;
  /** rows offered to {@link push}, accepted or not; numbers the rows in error messages */
  seen = 0;
  nonfiniteRows = 0;
  /** accepted rows whose every value is 0 (excluded from the average cosine) */
  zeroRows = 0;
  readonly mean: Float64Array;
  /** `dims x dims` row-major; only the upper triangle (i <= j) is maintained */
  readonly comoment: Float64Array;
  readonly unitSum: Float64Array;
  /**
   * per-dimension sum of squared unit-row components, sum_k u_ki^2: with {@link unitSum} it gives
   * each dimension's exact share of the average cosine; null after loading a file without it
   */
  unitSq: Float64Array | null;
  readonly min: Float64Array;
  readonly max: Float64Array;
  sources: StatsSource[] = [];
  private xcBuf = new Float64Array(0);
  private bmBuf = new Float64Array(0);

  constructor(readonly dims: number) {
    if (!Number.isInteger(dims) || dims <= 0) throw new StatsError(`dims must be a positive integer, got ${dims}`);
    this.mean = new Float64Array(dims);
    this.comoment = new Float64Array(dims * dims);
    this.unitSum = new Float64Array(dims);
    this.unitSq = new Float64Array(dims);
    this.min = new Float64Array(dims).fill(Infinity);
    this.max = new Float64Array(dims).fill(-Infinity);
  }

  /**
   * Adds a row-major block of `rows x dims` values (float64, or float32 as a model outputs them:
   * converted to float64 first, exactly).
   *
   * @param opts.dropNonfinite  skip rows holding NaN/Inf (counted in `nonfiniteRows`) instead of
   *                            throwing a {@link NonFiniteRowError} that names the first one (default false)
   * @returns the rows that were used, so other consumers of the same pass see exactly those rows
   */
  push(data: Float64Array | Float32Array, rows: number, opts: { dropNonfinite?: boolean } = {}): FiniteRows {
    const d = this.dims;
    if (!Number.isSafeInteger(rows) || rows < 0) throw new StatsError(`rows must be a whole number >= 0, got ${rows}`);
    if (data.length < rows * d) throw new StatsError(`block holds ${data.length} values, expected ${rows} x ${d}`);
    const wide = data instanceof Float64Array ? data : Float64Array.from(data.subarray(0, rows * d));
    const clean = finiteRows(wide, rows, d, this.seen, opts.dropNonfinite ?? false);
    this.seen += clean.dropped;
    this.nonfiniteRows += clean.dropped;
    this.addFinite(clean.data, clean.rows);
    return clean;
  }

  /**
   * The hot part of {@link push}: adds `rows x dims` rows the caller has checked to be finite
   * (worker threads get blocks the reading thread has already checked). Each chunk of at most
   * `chunkRows` rows is centred on its own mean and its co-moments go through `gram`, then merge
   * in float64; float32 kernels need short chunks to stay accurate.
   *
   * @param gram       co-moment kernel (`out += X^T X`, upper triangle); default the TypeScript one
   * @param chunkRows  most rows per `gram` call; default all rows at once
   */
  addFinite(x: Float64Array, rows: number, gram: GramKernel = addGramUpper, chunkRows = Infinity): void {
    const d = this.dims;
    if (x.length < rows * d) throw new StatsError(`block holds ${x.length} values, expected ${rows} x ${d}`);
    const step = Math.max(1, Math.min(rows, chunkRows));
    for (let r0 = 0; r0 < rows; r0 += step) {
      const b = Math.min(step, rows - r0);
      this.addChunk(x.subarray(r0 * d, (r0 + b) * d), b, gram);
    }
  }

  /**
   * {@link addFinite} through a fused kernel that does the whole update of a block in one call
   * (the native backend's), instead of the TypeScript loops and a co-moment kernel.
   */
  addFiniteWith(x: RowData, rows: number, kernel: MomentsKernel): void {
    const d = this.dims;
    if (x.length < rows * d) throw new StatsError(`block holds ${x.length} values, expected ${rows} x ${d}`);
    if (rows === 0) return;
    this.zeroRows += kernel(x, rows, d, this);
    this.count += rows;
    this.seen += rows;
  }

  private addChunk(x: Float64Array, b: number, gram: GramKernel): void {
    const d = this.dims;
    this.seen += b;
    const min = this.min, max = this.max, unit = this.unitSum, sq = this.unitSq;
    const bm = new Float64Array(d);
    let zero = 0;
    for (let r = 0; r < b; r++) {
      const o = r * d;
      let ss = 0;
      for (let c = 0; c < d; c++) {
        const v = x[o + c];
        bm[c] += v;
        ss += v * v;
        if (v < min[c]) min[c] = v;
        if (v > max[c]) max[c] = v;
      }
      if (ss === 0) { zero++; continue; }
      const inv = 1 / Math.sqrt(ss);
      if (sq) {
        for (let c = 0; c < d; c++) {
          const u = x[o + c] * inv;
          unit[c] += u;
          sq[c] += u * u;
        }
      } else {
        for (let c = 0; c < d; c++) unit[c] += x[o + c] * inv;
      }
    }
    this.zeroRows += zero;
    for (let c = 0; c < d; c++) bm[c] /= b;
    // Scratch buffers are kept between chunks: d x d doubles per chunk would churn the GC.
    if (this.xcBuf.length < b * d) this.xcBuf = new Float64Array(b * d);
    const xc = this.xcBuf;
    for (let r = 0; r < b; r++) {
      const o = r * d;
      for (let c = 0; c < d; c++) xc[o + c] = x[o + c] - bm[c];
    }
    if (this.bmBuf.length !== d * d) this.bmBuf = new Float64Array(d * d);
    else this.bmBuf.fill(0);
    gram(xc.length === b * d ? xc : xc.subarray(0, b * d), b, d, this.bmBuf);
    this.combine(b, bm, this.bmBuf);
  }

  /** Adds the statistics of a disjoint set of rows (another shard); `other` is left unchanged. */
  merge(other: StatsAccumulator): this {
    if (other.dims !== this.dims) {
      throw new StatsError(`cannot merge statistics of ${other.dims}-dimensional rows into ${this.dims}-dimensional ones`);
    }
    this.seen += other.seen;
    this.nonfiniteRows += other.nonfiniteRows;
    this.zeroRows += other.zeroRows;
    // Both sides must have the squares for the union to have them.
    if (this.unitSq && other.unitSq) for (let c = 0; c < this.dims; c++) this.unitSq[c] += other.unitSq[c];
    else this.unitSq = null;
    for (let c = 0; c < this.dims; c++) {
      this.unitSum[c] += other.unitSum[c];
      if (other.min[c] < this.min[c]) this.min[c] = other.min[c];
      if (other.max[c] > this.max[c]) this.max[c] = other.max[c];
    }
    this.sources = [...this.sources, ...other.sources];
    if (other.count > 0) this.combine(other.count, other.mean, other.comoment);
    return this;
  }

  /** Chan et al.: M = Ma + Mb + delta delta^T na nb / n, mean moves by delta nb / n. */
  private combine(nb: number, meanB: Float64Array, comomentB: Float64Array): void {
    const d = this.dims;
    const na = this.count;
    const n = na + nb;
    if (na === 0) {
      // Into an empty accumulator: a copy, bit for bit (mean + delta nb / n need not give meanB back).
      this.mean.set(meanB);
      for (let i = 0; i < d; i++) for (let j = i; j < d; j++) this.comoment[i * d + j] += comomentB[i * d + j];
      this.count = n;
      return;
    }
    const delta = new Float64Array(d);
    for (let c = 0; c < d; c++) delta[c] = meanB[c] - this.mean[c];
    const f = (na * nb) / n;
    const m = this.comoment;
    for (let i = 0; i < d; i++) {
      const fi = f * delta[i];
      const o = i * d;
      for (let j = i; j < d; j++) m[o + j] += comomentB[o + j] + fi * delta[j];
    }
    for (let c = 0; c < d; c++) this.mean[c] += (delta[c] * nb) / n;
    this.count = n;
  }

  /** 1 where a dimension took a single value over all rows (min === max), else 0. */
  constantMask(): Uint8Array {
    return Uint8Array.from(this.min, (v, c) => (v === this.max[c] ? 1 : 0));
  }

  /**
   * Biased covariance `M / n` (divide by n, as IsoBN's code), full and symmetric, `dims x dims`.
   * Rows and columns of constant dimensions are exactly 0: rounding of the mean would otherwise
   * leave ~1e-34 there, which turns 0/0 correlations into noise instead of a clean exclusion.
   */
  covariance(): Float64Array {
    const d = this.dims;
    const n = this.count;
    if (n === 0) throw new StatsError('no rows: the covariance needs at least one row');
    const cov = new Float64Array(d * d);
    for (let i = 0; i < d * d; i++) cov[i] = this.comoment[i] / n;
    symmetrizeUpper(cov, d);
    const mask = this.constantMask();
    for (let i = 0; i < d; i++) {
      if (!mask[i]) continue;
      for (let j = 0; j < d; j++) { cov[i * d + j] = 0; cov[j * d + i] = 0; }
    }
    return cov;
  }

  /** Versioned JSON form; every float64 is kept exactly (base64 of its bytes). */
  toJSON(): StatsJSON {
    const d = this.dims;
    const packed = new Float64Array((d * (d + 1)) / 2);
    let k = 0;
    for (let i = 0; i < d; i++) for (let j = i; j < d; j++) packed[k++] = this.comoment[i * d + j];
    return {
      schema: STATS_SCHEMA,
      dims: d,
      count: this.count,
      nonfiniteRows: this.nonfiniteRows,
      zeroRows: this.zeroRows,
      mean: f64ToBase64(this.mean),
      comoment: f64ToBase64(packed),
      unitSum: f64ToBase64(this.unitSum),
      ...(this.unitSq ? { unitSq: f64ToBase64(this.unitSq) } : {}),
      min: f64ToBase64(this.min),
      max: f64ToBase64(this.max),
      sources: this.sources,
    };
  }

  /**
   * Rebuilds an accumulator from {@link toJSON}'s output, after checking every field
   * (`checkStatsJSON`: schema, finiteness, consistency, sources).
   * @throws StatsError on a foreign, damaged or inconsistent object, naming the field
   */
  static fromJSON(json: unknown): StatsAccumulator {
    let c;
    try {
      c = checkStatsJSON(json);
    } catch (e) {
      if (e instanceof StatsError && !e.message.startsWith('not an isotropy')) throw new StatsError(`damaged statistics file: ${e.message}`);
      throw e;
    }
    const d = c.dims;
    const acc = new StatsAccumulator(d);
    acc.mean.set(c.mean);
    acc.unitSum.set(c.unitSum);
    acc.unitSq = c.unitSq;
    acc.min.set(c.min);
    acc.max.set(c.max);
    let k = 0;
    for (let i = 0; i < d; i++) for (let j = i; j < d; j++) acc.comoment[i * d + j] = c.comoment[k++];
    acc.count = c.count;
    acc.nonfiniteRows = c.nonfiniteRows;
    acc.zeroRows = c.zeroRows;
    acc.seen = c.count + c.nonfiniteRows;
    acc.sources = c.sources;
    return acc;
  }
}
