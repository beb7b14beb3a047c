import type { Argv } from 'yargs';
import type { TransformParams } from '../index.js';
import { cliMessage } from './errors.js';

/** The transform parameter flags shared by analyze, transform and merge. */
export function transformParamOptions<T>(y: Argv<T>) {
  return y
    .option('eps', { type: 'number', describe: 'IsoBN epsilon', default: 1e-3, group: 'Transform parameters:' })
    .option('beta', { type: 'number', describe: 'IsoBN exponent: a_i = (gamma_i s_i + eps)^-beta', default: 0.5, group: 'Transform parameters:' })
    .option('batch-size', { type: 'number', describe: 'isobn-running: rows per batch', default: 16, group: 'Transform parameters:' })
    .option('momentum', { type: 'number', describe: 'isobn-running: weight of each batch', default: 0.05, group: 'Transform parameters:' })
    .option('keep-last-batch', { type: 'boolean', describe: 'isobn-running: also update on a short final batch (default: dropped, as DataLoader(drop_last=True))', default: false, group: 'Transform parameters:' })
    .option('keep', { type: 'number', describe: 'whiten: components kept (default all)', group: 'Transform parameters:' })
    .option('remove', { type: 'number', describe: 'abtt: top directions removed (default max(1, round(d/100)))', group: 'Transform parameters:' });
}

/** The rows-reading flags shared by analyze, transform and stats. */
export function readOptions<T>(y: Argv<T>) {
  return y
    .option('layer', { type: 'number', describe: 'layer of an (n, layers, d) array; negative counts from the end (default: the last)' })
    .option('drop-nonfinite', { type: 'boolean', describe: 'skip rows holding NaN/Inf (counted and reported) instead of failing', default: false })
    .option('quiet', { alias: 'q', type: 'boolean', describe: 'no progress or warnings on stderr', default: false });
}

/** Picks the transform parameters out of parsed flags. */
export function transformParams(argv: { eps: number; beta: number; batchSize: number; momentum: number; keepLastBatch: boolean; keep?: number; remove?: number }): TransformParams {
  return { eps: argv.eps, beta: argv.beta, batchSize: argv.batchSize, momentum: argv.momentum, keepLastBatch: argv.keepLastBatch, keep: argv.keep, remove: argv.remove };
}

/** `--max-memory`, for every command that does d x d work. */
export function memoryOption<T>(y: Argv<T>) {
  return y.option('max-memory', {
    type: 'string',
    describe: 'memory the work may use, e.g. 8G, 512M or 75% (default: half of the machine\'s memory); larger inputs are refused before any work',
  });
}

/** Prints a warning on stderr unless --quiet. */
export function warner(quiet: boolean): (m: string) => void {
  return (m) => { if (!quiet) process.stderr.write(`warning: ${cliMessage(m)}\n`); };
}
