import type { Argv } from 'yargs';
import { checkOutputPath, collectStats, writeFileAtomic } from '../../index.js';
import { memoryOption, readOptions } from '../options.js';
import { Progress } from '../progress.js';

export const command = 'stats <file>';
export const describe = 'Sufficient statistics of one .npy shard, to merge later (isotropy merge)';

export function builder(y: Argv) {
  return memoryOption(readOptions(y
    .positional('file', { type: 'string', demandOption: true, describe: 'one .npy shard' })
    .option('out', { alias: ['o', 'save'], type: 'string', describe: 'write the statistics JSON to this file (default: stdout)' })))
    .example('$0 stats part1.npy --out part1.stats.json', 'then: isotropy merge part*.stats.json');
}

export async function handler(argv: Awaited<ReturnType<typeof builder>['argv']>): Promise<void> {
  const progress = new Progress(!argv.quiet);
  const file = argv.file as string;
  if (argv.out) await checkOutputPath(argv.out, [file]);
  try {
    const acc = await collectStats(file, {
      layer: argv.layer,
      dropNonfinite: argv.dropNonfinite,
      maxMemory: argv.maxMemory,
      onRows: (done, total) => progress.update(file, done, total),
    });
    progress.done();
    const text = `${JSON.stringify(acc.toJSON())}\n`;
    if (argv.out) {
      await writeFileAtomic(argv.out, text, { protect: [file] });
      process.stdout.write(`${argv.out}: statistics of ${acc.count} rows x ${acc.dims} dims` +
        (acc.nonfiniteRows ? ` (${acc.nonfiniteRows} rows dropped)` : '') + '\n');
    } else {
      process.stdout.write(text);
    }
  } finally {
    progress.done();
  }
}
