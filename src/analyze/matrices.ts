import type { Matrix } from 'ml-matrix';
import { correlationMatrix, momentsOf } from '../stats/index.js';
import { fitTransform, mapMoments, parseTransforms, type TransformParams } from '../transforms/index.js';
import { checkUsable, openOptions } from './analyze.js';
import { firstPass } from './first-pass.js';
import { openInput, type AnalyzeInput } from './inputs.js';
import { Kernels } from './kernels.js';
import type { OpenOptions } from '../io/index.js';

/** Options of {@link statsMatrices}. */
export interface StatsMatricesOptions extends TransformParams, Pick<OpenOptions, 'layer' | 'key' | 'column' | 'field' | 'revision' | 'remote'> {
  /** the matrices of the rows after this transform (`isobn`, `whiten`, ...: cov' = A^T cov A); default none */
  transform?: string;
  /** skip rows holding NaN/Inf instead of failing; default false */
  dropNonfinite?: boolean;
  /** kernels and threads, as for `analyze` */
  backend?: string;
  threads?: number;
}

/** The d x d statistics of an input, as ml-matrix objects. */
export interface StatsMatrices {
  /** biased covariance (divide by n), d x d */
  covariance: Matrix;
  /** Pearson correlation, d x d; a constant dimension has 1 on the diagonal and 0 elsewhere */
  correlation: Matrix;
  /** the mean row */
  mean: number[];
  /** rows used (NaN/Inf rows dropped with `dropNonfinite` are not counted) */
  rows: number;
}

/**
 * The covariance and correlation matrices of an input (any {@link AnalyzeInput}: a file, URL,
 * array, typed array, ml-matrix `Matrix`, ...), from one streamed pass over its rows, returned as
 * ml-matrix `Matrix` objects (ml-matrix is loaded here, on first use). With `transform`, those of
 * the transformed rows (the same algebra `analyze` uses: cov' = A^T cov A, no second read).
 *
 * @throws NpyError for an unreadable input, StatsError for fewer than 2 usable rows,
 *   TransformError for a bad transform
 */
export async function statsMatrices(input: AnalyzeInput, opts: StatsMatricesOptions = {}): Promise<StatsMatrices> {
  const names = opts.transform ? parseTransforms(opts.transform) : [];
  if (names.length > 1) throw new RangeError(`statsMatrices: give one transform, got ${names.join(', ')}`);
  const { source, owned } = await openInput(input, openOptions(opts));
  const kernels = new Kernels({ backend: opts.backend, threads: opts.threads });
  try {
    const { runner, blockRows } = await kernels.forInput(source.rows, source.dims);
    const { acc, ordered } = await firstPass(source, names, { ...opts, blockRows, runner });
    checkUsable(acc, source.path);
    let m = momentsOf(acc);
    if (names.length) m = mapMoments(fitTransform(names[0], m, opts, ordered.get(names[0])).map, m);
    const { Matrix } = await import('ml-matrix');
    const d = m.dims;
    return {
      covariance: Matrix.from1DArray(d, d, m.cov),
      correlation: Matrix.from1DArray(d, d, correlationMatrix(m.cov, d, m.constant)),
      mean: Array.from(m.mean),
      rows: acc.count,
    };
  } finally {
    await kernels.close();
    if (owned) await source.close();
  }
}

/**
 * A row-major `rows x cols` array (an analysis' eigenvalues, an IsoBN scale, a covariance of your
 * own) as an ml-matrix `Matrix`; loads ml-matrix on first use.
 */
export async function toMatrix(values: ArrayLike<number>, rows: number, cols: number): Promise<Matrix> {
  if (values.length !== rows * cols) throw new RangeError(`toMatrix: ${values.length} values do not make a ${rows} x ${cols} matrix`);
  const { Matrix } = await import('ml-matrix');
  return Matrix.from1DArray(rows, cols, Array.from(values));
}
