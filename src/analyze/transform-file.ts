import { NpyWriter, checkOutputPath, openEmbeddings, quote, type OpenOptions } from '../io/index.js';
import { finiteRows, momentsOf } from '../stats/index.js';
import { applyMap, fitTransform, outputDims, parseTransforms, TransformError, type FittedTransform, type TransformParams } from '../transforms/index.js';
import { checkUsable, openOptions } from './analyze.js';
import { checkMemory, estimateMemory, memoryBudget, type WorkShape } from './budget.js';
import { firstPass } from './first-pass.js';

/** Options of {@link transformFile}; transform parameters go alongside. */
export interface TransformFileOptions extends TransformParams, Pick<OpenOptions, 'key' | 'column' | 'field' | 'revision' | 'remote'> {
  /** one transform name, e.g. "isobn" */
  method: string;
  layer?: number;
  dropNonfinite?: boolean;
  /** output dtype; default f8 for float64 input, else f4 */
  dtype?: 'f4' | 'f8';
  blockRows?: number;
  onProgress?: (pass: 1 | 2, rowsDone: number, rowsTotal: number) => void;
  onWarning?: (message: string) => void;
  /** memory the fit may use (bytes or "8G", "75%"); default half of the machine's memory */
  maxMemory?: number | string;
}

/**
 * Fits a transform to an embeddings file (any format `openEmbeddings` reads) and writes the transformed rows to another .npy (2-D, C order).
 * Two reads of the input (fit, then apply); the output appears only when complete (temp file, then
 * rename) and is never the input itself.
 *
 * @returns the fitted transform and the output's shape and dtype
 */
export async function transformFile(inPath: string, outPath: string, opts: TransformFileOptions) {
  const names = parseTransforms(opts.method);
  if (names.length !== 1) throw new TransformError(`\`method\` takes one transform name, got ${quote(opts.method)}`);
  const budget = memoryBudget(opts.maxMemory);
  // The output is checked before the fit, not after it.
  await checkOutputPath(outPath, [inPath]);
  const source = await openEmbeddings(inPath, openOptions(opts));
  try {
    const shape: WorkShape = { dims: source.dims, rows: source.rows, transforms: names, workers: 0, backend: 'js', diagnostics: false, secondPass: false };
    checkMemory(estimateMemory(shape), budget, `${inPath}: fitting ${names[0]} to ${source.dims} dimensions`, shape);
    source.notes.forEach((n) => opts.onWarning?.(`${inPath}: ${n}`));
    const { acc, ordered } = await firstPass(source, names, { ...opts, onRows: (k) => opts.onProgress?.(1, k, source.rows) });
    checkUsable(acc, inPath);
    const fitted: FittedTransform = fitTransform(names[0], momentsOf(acc), opts, ordered.get(names[0]));
    fitted.warnings.forEach((w) => opts.onWarning?.(`${inPath}: ${w}`));
    const d = source.dims;
    const e = outputDims(fitted.map, d);
    const dtype = opts.dtype ?? (source.dtype.endsWith('f8') ? 'f8' : 'f4');
    const writer = await NpyWriter.create(outPath, acc.count, e, { dtype, protect: [inPath] });
    try {
      for await (const block of source.blocks({ blockRows: opts.blockRows })) {
        const { data, rows } = finiteRows(block.data, block.rows, d, block.start, opts.dropNonfinite ?? false);
        await writer.write(applyMap(fitted.map, data, rows, d), rows);
        opts.onProgress?.(2, block.start + block.rows, source.rows);
      }
      await writer.commit();
    } catch (err) {
      await writer.abort();
      throw err;
    }
    return { fitted, rows: acc.count, dims: e, dtype, droppedRows: acc.nonfiniteRows };
  } finally {
    await source.close();
  }
}
