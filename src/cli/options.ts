import type { Argv } from 'yargs';
import type { TransformParams } from '../index.js';

/** The transform parameter flags shared by analyze, transform and merge. */
export function transformParamOptions<T>(y: Argv<T>) {
  return y
    .option('eps', { type: 'number', describe: 'IsoBN epsilon', default: 1e-3, group: 'Transform parameters:' })
    .option('beta', { type: 'number', describe: 'IsoBN exponent: a_i = (gamma_i s_i + eps)^-beta', default: 0.5, group: 'Transform parameters:' })
    .option('batch-size', { type: 'number', describe: 'isobn-running: rows per batch', default: 16, group: 'Transform parameters:' })
    .option('momentum', { type: 'number', describe: 'isobn-running: weight of each batch', default: 0.05, group: 'Transform parameters:' })
    .option('keep', { type: 'number', describe: 'whiten: components kept (default all)', group: 'Transform parameters:' })
    .option('remove', { type: 'number', describe: 'abtt: top directions removed (default max(1, round(d/100)))', group: 'Transform parameters:' });
}

/** The rows-reading flags shared by analyze, transform and stats. */
export function readOptions<T>(y: Argv<T>) {
  return y
    .option('layer', { type: 'number', describe: 'layer of an (n, layers, d) array; negative counts from the end (default: the last)' })
    .option('key', { type: 'string', describe: '.npz member, safetensors tensor or HDF5 dataset (/path) to read (default: the only 2-D/3-D array)' })
    .option('column', { type: 'string', describe: 'Parquet/Arrow column of vectors (default: the only one)' })
    .option('field', { type: 'string', describe: 'JSONL field holding the vector, dotted for nested (default: embedding)' })
    .option('drop-nonfinite', { type: 'boolean', describe: 'skip rows holding NaN/Inf, or null vectors (counted and reported), instead of failing', default: false })
    .option('quiet', { alias: 'q', type: 'boolean', describe: 'no progress or warnings on stderr', default: false });
}

/** Picks the transform parameters out of parsed flags. */
export function transformParams(argv: { eps: number; beta: number; batchSize: number; momentum: number; keep?: number; remove?: number }): TransformParams {
  return { eps: argv.eps, beta: argv.beta, batchSize: argv.batchSize, momentum: argv.momentum, keep: argv.keep, remove: argv.remove };
}

/** Prints a warning on stderr unless --quiet. */
export function warner(quiet: boolean): (m: string) => void {
  return (m) => { if (!quiet) process.stderr.write(`warning: ${m}\n`); };
}
