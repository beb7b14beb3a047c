import type { Argv } from 'yargs';
import { analyze } from '../../index.js';
import { formatAnalysis } from '../format.js';
import { readOptions, transformParamOptions, transformParams, warner } from '../options.js';
import { Progress } from '../progress.js';

export const command = 'analyze <files..>';
export const describe = 'Isotropy metrics of .npy embeddings, before and after IsoBN (and other transforms)';

export function builder(y: Argv) {
  return transformParamOptions(readOptions(y
    .positional('files', { type: 'string', array: true, demandOption: true, describe: '.npy files of shape (n, d) or (n, layers, d)' })
    .option('json', { type: 'boolean', default: false, describe: 'print the isotropy.analysis/v1 JSON on stdout instead of the table' })
    .option('transform', { alias: 't', type: 'string', default: 'isobn', describe: 'comma-separated: none, isobn, isobn-running, standardize, whiten, abtt' })
    .option('one-pass', { type: 'boolean', default: false, describe: 'read each file once: skips I(W) and the cosines of transformed rows' })
    .option('backend', { type: 'string', default: 'auto', describe: 'kernels: auto (native > wasm > js), native (OpenBLAS addon), wasm, tfjs-node, js' })
    .option('threads', { type: 'number', describe: 'compute threads for wasm and js (default: all cores); native and tfjs-node thread themselves' })))
    .example('$0 analyze emb.npy', 'table of metrics, before and after IsoBN')
    .example('$0 analyze bert.npy roberta.npy --transform isobn,standardize --json', 'JSON for two files, two transforms');
}

export async function handler(argv: Awaited<ReturnType<typeof builder>['argv']>): Promise<void> {
  const progress = new Progress(!argv.quiet);
  const files = argv.files as string[];
  try {
    const result = await analyze(files, {
      ...transformParams(argv),
      transforms: argv.transform,
      layer: argv.layer,
      dropNonfinite: argv.dropNonfinite,
      onePass: argv.onePass,
      backend: argv.backend,
      threads: argv.threads,
      onWarning: warner(argv.quiet),
      onProgress: (p) => progress.update(`${p.path} pass ${p.pass}/${argv.onePass ? 1 : 2}`, p.rowsDone, p.rowsTotal),
    });
    progress.done();
    process.stdout.write(argv.json ? `${JSON.stringify(result, null, 2)}\n` : formatAnalysis(result));
  } finally {
    progress.done();
  }
}
