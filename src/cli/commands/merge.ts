import type { Argv } from 'yargs';
import { StatsAccumulator, analyzeShards, writeFileAtomic } from '../../index.js';
import { UsageError } from '../errors.js';
import { formatAnalysis } from '../format.js';
import { transformParamOptions, transformParams, warner } from '../options.js';
import { readJsonFile } from '../read-json.js';

export const command = 'merge <files..>';
export const describe = 'Analysis of several shards together, from their saved statistics (isotropy stats --save)';

export function builder(y: Argv) {
  return transformParamOptions(y
    .positional('files', { type: 'string', array: true, demandOption: true, describe: '.stats.json files from isotropy stats --save' })
    .option('json', { type: 'boolean', default: false, describe: 'print the isotropy.analysis/v1 JSON instead of the table' })
    .option('transform', { alias: 't', type: 'string', default: 'isobn', describe: 'comma-separated: none, isobn, standardize, whiten, abtt' })
    .option('save', { type: 'string', describe: 'also write the merged statistics to this file' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no warnings on stderr' }))
    .example('$0 merge part*.stats.json --json', 'metrics of all shards together');
}

/** Reads one saved statistics file; every problem names the file. */
async function load(path: string): Promise<StatsAccumulator> {
  const json = await readJsonFile(path, 'a statistics file written by `isotropy stats --save`');
  try {
    return StatsAccumulator.fromJSON(json);
  } catch (e) {
    throw new UsageError(`${path}: ${(e as Error).message}`);
  }
}

export async function handler(argv: Awaited<ReturnType<typeof builder>['argv']>): Promise<void> {
  const files = argv.files as string[];
  const shards = await Promise.all(files.map(load));
  const dims = new Set(shards.map((s) => s.dims));
  if (dims.size > 1) {
    throw new UsageError(`shards have different dimensions (${files.map((f, i) => `${f}: ${shards[i].dims}`).join(', ')}): merge only shards of one embedding`);
  }
  const result = analyzeShards(shards, files, { ...transformParams(argv), transforms: argv.transform, onWarning: warner(argv.quiet) });
  if (argv.save) {
    const merged = shards.slice(1).reduce((a, s) => a.merge(s), StatsAccumulator.fromJSON(shards[0].toJSON()));
    await writeFileAtomic(argv.save, `${JSON.stringify(merged.toJSON())}\n`, { protect: files });
  }
  process.stdout.write(argv.json ? `${JSON.stringify(result, null, 2)}\n` : formatAnalysis(result));
}
