import type { Argv } from 'yargs';
import type { TransformParams } from '../index.js';
import { quote } from '../index.js';
import { cliMessage, UsageError } from './errors.js';

/**
 * The transform parameter flags shared by analyze, transform and merge. `defaults: false` leaves
 * unset flags undefined (the transforms then use the same defaults), so that a command can tell
 * a flag that was given from one that was not (merge: the plan fixes them in round 2).
 */
export function transformParamOptions<T>(y: Argv<T>, opts: { defaults?: boolean } = {}) {
  const def = (v: number, text: string) => (opts.defaults === false ? { describe: `${text} (default ${v})` } : { describe: text, default: v });
  return y
    .option('eps', { type: 'number', ...def(1e-3, 'IsoBN epsilon'), group: 'Transform parameters:' })
    .option('beta', { type: 'number', ...def(0.5, 'IsoBN exponent: a_i = (gamma_i s_i + eps)^-beta'), group: 'Transform parameters:' })
    .option('batch-size', { type: 'number', ...def(16, 'isobn-running: rows per batch'), group: 'Transform parameters:' })
    .option('momentum', { type: 'number', ...def(0.05, 'isobn-running: weight of each batch'), group: 'Transform parameters:' })
    .option('keep-last-batch', {
      type: 'boolean', ...(opts.defaults === false ? {} : { default: false }), group: 'Transform parameters:',
      describe: 'isobn-running: also update on a short final batch (default: dropped, as DataLoader(drop_last=True))',
    })
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
    .option('revision', { type: 'string', describe: 'branch, tag or commit of hf:// inputs (default main)' })
    .option('drop-nonfinite', { type: 'boolean', describe: 'skip rows holding NaN/Inf, or null vectors (counted and reported), instead of failing', default: false })
    .option('quiet', { alias: 'q', type: 'boolean', describe: 'no progress or warnings on stderr', default: false });
}

/**
 * `--layers`: `all`, or comma-separated layer indices (negative from the end).
 * @throws UsageError for anything else
 */
export function parseLayers(v: string | undefined): readonly number[] | 'all' | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  if (t === 'all') return 'all';
  const parts = t.split(',').map((p) => p.trim());
  if (!parts.length || parts.some((p) => !/^-?\d+$/.test(p))) {
    throw new UsageError(`--layers ${quote(v)}: give all, or layer indices separated by commas (0,6,-1)`);
  }
  return parts.map(Number);
}

/** Picks the transform parameters out of parsed flags. */
export function transformParams(argv: { eps?: number; beta?: number; batchSize?: number; momentum?: number; keepLastBatch?: boolean; keep?: number; remove?: number }): TransformParams {
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
