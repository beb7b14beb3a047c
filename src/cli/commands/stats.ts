import type { Argv } from 'yargs';
import { collectStats, writeFileAtomic } from '../../index.js';
import { readOptions } from '../options.js';
import { Progress } from '../progress.js';

export const command = 'stats <file>';
export const describe = 'Sufficient statistics of one embeddings file (a shard), to merge later (isotropy merge)';

export function builder(y: Argv) {
  return readOptions(y
    .positional('file', { type: 'string', demandOption: true, describe: 'one embeddings file (any format analyze reads)' })
    .option('save', { type: 'string', describe: 'write the statistics JSON to this file (default: stdout)' }))
    .example('$0 stats part1.npy --save part1.stats.json', 'then: isotropy merge part*.stats.json');
}

export async function handler(argv: Awaited<ReturnType<typeof builder>['argv']>): Promise<void> {
  const progress = new Progress(!argv.quiet);
  const file = argv.file as string;
  try {
    const acc = await collectStats(file, {
      layer: argv.layer,
      key: argv.key,
      column: argv.column,
      field: argv.field,
      dropNonfinite: argv.dropNonfinite,
      onRows: (done, total) => progress.update(file, done, total),
    });
    progress.done();
    const text = `${JSON.stringify(acc.toJSON())}\n`;
    if (argv.save) {
      await writeFileAtomic(argv.save, text, { protect: [file] });
      process.stdout.write(`${argv.save}: statistics of ${acc.count} rows x ${acc.dims} dims` +
        (acc.nonfiniteRows ? ` (${acc.nonfiniteRows} rows dropped)` : '') + '\n');
    } else {
      process.stdout.write(text);
    }
  } finally {
    progress.done();
  }
}
