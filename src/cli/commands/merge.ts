import type { Argv } from 'yargs';
import { StatsAccumulator, analyzeShards, checkMemory, checkOutputPath, estimateMemory, memoryBudget, parseTransforms, writeFileAtomic } from '../../index.js';
import { UsageError } from '../errors.js';
import { formatAnalysis } from '../format.js';
import { memoryOption, transformParamOptions, transformParams, warner } from '../options.js';
import { readJsonFile } from '../read-json.js';

export const command = 'merge <files..>';
export const describe = 'Analysis of several shards together, from their saved statistics (isotropy stats --save)';

export function builder(y: Argv) {
  return memoryOption(transformParamOptions(y
    .positional('files', { type: 'string', array: true, demandOption: true, describe: '.stats.json files from isotropy stats --save' })
    .option('json', { type: 'boolean', default: false, describe: 'print the isotropy.analysis/v1 JSON instead of the table' })
    .option('transform', { alias: 't', type: 'string', default: 'isobn', describe: 'comma-separated: none, isobn, standardize, whiten, abtt' })
    .option('out', { alias: ['o', 'save'], type: 'string', describe: 'also write the merged statistics to this file' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no warnings on stderr' })))
    .example('$0 merge part*.stats.json --json', 'metrics of all shards together');
}

/** Decodes one saved statistics file; every problem names the file. */
function load(path: string, json: unknown): StatsAccumulator {
  try {
    return StatsAccumulator.fromJSON(json);
  } catch (e) {
    throw new UsageError(`${path}: ${(e as Error).message}`);
  }
}

export async function handler(argv: Awaited<ReturnType<typeof builder>['argv']>): Promise<void> {
  const files = argv.files as string[];
  if (argv.out) await checkOutputPath(argv.out, files);
  const texts = await Promise.all(files.map((f) => readJsonFile(f, 'a statistics file written by `isotropy stats --out`')));
  // The d x d co-moments of every shard are decoded at once: check the memory first.
  const widest = Math.max(...texts.map((t) => (typeof t === 'object' && t !== null && Number.isSafeInteger((t as { dims?: unknown }).dims) ? (t as { dims: number }).dims : 1)));
  const names = parseTransforms(argv.transform);
  const shape = { kind: 'merge' as const, shards: files.length, dims: widest, rows: Infinity, transforms: names, workers: 0, backend: 'js', diagnostics: true, secondPass: false };
  checkMemory(estimateMemory(shape), memoryBudget(argv.maxMemory), `merging ${files.length} shard(s) of ${widest} dimensions`, shape);
  const shards = files.map((f, i) => load(f, texts[i]));
  const dims = new Set(shards.map((s) => s.dims));
  if (dims.size > 1) {
    throw new UsageError(`shards have different dimensions (${files.map((f, i) => `${f}: ${shards[i].dims}`).join(', ')}): merge only shards of one embedding`);
  }
  const result = analyzeShards(shards, files, { ...transformParams(argv), transforms: argv.transform, maxMemory: argv.maxMemory, onWarning: warner(argv.quiet) });
  if (argv.out) {
    const merged = shards.slice(1).reduce((a, s) => a.merge(s), StatsAccumulator.fromJSON(shards[0].toJSON()));
    await writeFileAtomic(argv.out, `${JSON.stringify(merged.toJSON())}\n`, { protect: files });
  }
  process.stdout.write(argv.json ? `${JSON.stringify(result, null, 2)}\n` : formatAnalysis(result));
}
