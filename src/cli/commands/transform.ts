import type { Argv } from 'yargs';
import { transformFile } from '../../index.js';
import { UsageError } from '../errors.js';
import { memoryOption, readOptions, transformParamOptions, transformParams, warner } from '../options.js';
import { Progress } from '../progress.js';

export const command = 'transform <input> [output]';
export const describe = 'Write the transformed vectors of an embeddings file to a new .npy file';

export function builder(y: Argv) {
  return memoryOption(transformParamOptions(readOptions(y
    .positional('input', { type: 'string', demandOption: true, describe: 'input embeddings (any format analyze reads)' })
    .positional('output', { type: 'string', describe: 'output .npy (or --out)' })
    .option('out', { alias: 'o', type: 'string', describe: 'output .npy (2-D, C order); never the input' })
    .option('transform', { alias: ['t', 'method', 'm'], type: 'string', default: 'isobn', describe: 'one of isobn, isobn-running, standardize, whiten, abtt' })
    .option('dtype', { choices: ['f32', 'f64'] as const, describe: 'output dtype (default: f64 for float64 input, else f32)' }))))
    .example('$0 transform emb.npy --out emb.isobn.npy --transform isobn', 'IsoBN with the statistics of the whole file');
}

export async function handler(argv: Awaited<ReturnType<typeof builder>['argv']>): Promise<void> {
  const out = argv.out ?? (argv.output as string | undefined);
  if (out === undefined) throw new UsageError('name the output .npy: isotropy transform <input> --out <output.npy>');
  if (argv.out !== undefined && argv.output !== undefined && argv.out !== argv.output) {
    throw new UsageError(`two outputs given (${argv.output} and --out ${argv.out}): give one`);
  }
  const progress = new Progress(!argv.quiet);
  try {
    const r = await transformFile(argv.input as string, out, {
      ...transformParams(argv),
      method: argv.transform,
      layer: argv.layer,
      revision: argv.revision,
      key: argv.key,
      column: argv.column,
      field: argv.field,
      dropNonfinite: argv.dropNonfinite,
      dtype: argv.dtype === 'f64' ? 'f8' : argv.dtype === 'f32' ? 'f4' : undefined,
      maxMemory: argv.maxMemory,
      onWarning: warner(argv.quiet),
      onProgress: (pass, done, total) => progress.update(`${argv.input} ${pass === 1 ? 'fit' : 'write'}`, done, total),
    });
    progress.done();
    const params = Object.entries(r.fitted.params).map(([k, v]) => `${k}=${v}`).join(' ');
    process.stdout.write(`${out}: ${r.rows} x ${r.dims} <${r.dtype}, ${r.fitted.name}${params ? ` (${params})` : ''}` +
      (r.droppedRows ? `, ${r.droppedRows} rows dropped` : '') + '\n');
  } finally {
    progress.done();
  }
}
