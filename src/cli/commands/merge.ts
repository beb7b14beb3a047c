import type { Argv } from 'yargs';
import {
  MAX_SAMPLE_ROWS, analyzePlan, analyzeShards, isPartialJSON, mergeShards, parseTransforms, partialFromJSON, planShards,
  planToJSON, shardFromJSON, shardToJSON, writeFileAtomic, type Analysis, type Shard,
} from '../../index.js';
import { UsageError } from '../errors.js';
import { formatAnalysis } from '../format.js';
import { checkOutputPath } from '../output-path.js';
import { transformParamOptions, transformParams, warner } from '../options.js';
import { readJsonFile } from '../read-json.js';
import { saveReport } from '../report-file.js';
import { loadPlan } from './stats.js';

export const command = 'merge <files..>';
export const describe = 'Analysis of shards together: from round-1 statistics (one round, or --plan to plan round 2), or from round-2 partials with --plan';

export function builder(y: Argv) {
  return transformParamOptions(y
    .positional('files', { type: 'string', array: true, demandOption: true, describe: 'statistics from isotropy stats (round 1), or partials from isotropy stats --plan (round 2)' })
    .option('plan', { type: 'string', describe: 'with statistics: write the plan for round 2 here; with partials: the plan they were made with' })
    .option('json', { type: 'boolean', default: false, describe: 'print the isotropy.analysis/v1 JSON instead of the table' })
    .option('transform', { alias: 't', type: 'string', describe: 'comma-separated: none, isobn, isobn-running, standardize, whiten, abtt (default isobn; in round 2 the plan\'s)' })
    .option('out', { alias: 'o', type: 'string', describe: 'also write the HTML report to this file', group: 'Report:' })
    .option('interactive', { type: 'boolean', default: false, describe: 'inline vega in the report (tooltips, zoom; still offline)', group: 'Report:' })
    .option('sample-rows', { type: 'number', describe: 'rows in the report\'s PCA sample, read in round 2, 0 to 5000 (default 1000)', group: 'Report:' })
    .option('save', { type: 'string', describe: 'also write the merged statistics to this file (they merge again later)' })
    .option('allow-missing', { type: 'boolean', default: false, describe: 'one round: merge although some rows of a file are in no shard given (to --save now, merge the rest later)' })
    .option('backend', { type: 'string', default: 'auto', describe: 'kernels whose eigensolver the merge uses: auto (native > wasm > js), native, wasm, js' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no warnings on stderr' }), { defaults: false })
    .example('$0 merge s_*.json --json', 'one round: every metric but I(W) and the transformed avgCosine')
    .example('$0 merge s_*.json --plan plan.json', 'reduce 1: then isotropy stats SHARD --plan plan.json --out p_i.json on every shard')
    .example('$0 merge p_*.json --plan plan.json --json --out report.html', 'reduce 2: every metric, as isotropy analyze on all rows');
}

type Argvs = Awaited<ReturnType<typeof builder>['argv']>;

/** Reads one input file as JSON; problems name the file. */
async function readInput(path: string): Promise<unknown> {
  return readJsonFile(path, 'statistics written by `isotropy stats`, or a partial written by `isotropy stats --plan`');
}

/** Runs `fn` on a file's content; user errors get the file's name in front. */
function named<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw (e as { isUserError?: boolean }).isUserError ? new UsageError(`${path}: ${(e as Error).message}`) : e;
  }
}

export async function handler(argv: Argvs): Promise<void> {
  const files = argv.files as string[];
  if (argv.sampleRows !== undefined && !(Number.isInteger(argv.sampleRows) && argv.sampleRows >= 0 && argv.sampleRows <= MAX_SAMPLE_ROWS)) {
    throw new UsageError(`--sample-rows must be a whole number from 0 to ${MAX_SAMPLE_ROWS}, got ${argv.sampleRows}`);
  }
  const jsons = await Promise.all(files.map(readInput));
  const partial = jsons.map(isPartialJSON);
  if (partial.some(Boolean) && !partial.every(Boolean)) {
    throw new UsageError(`${files[partial.indexOf(true)]} is a round-2 partial and ${files[partial.indexOf(false)]} is not: merge statistics (round 1) or partials (round 2), not both`);
  }
  const round2 = partial[0];
  const protect = [...files, ...(round2 && argv.plan ? [argv.plan] : [])];
  for (const [flag, path] of [['--out', argv.out], ['--save', argv.save], ['--plan', round2 ? undefined : argv.plan]] as const) {
    if (path) await checkOutputPath(path, protect, flag);
  }
  const warn = warner(argv.quiet);
  let result: Analysis;
  if (round2) {
    if (!argv.plan) throw new UsageError(`${files[0]} is a round-2 partial: give the plan it was made with (--plan PLAN)`);
    const given = ['transform', 'eps', 'beta', 'batchSize', 'momentum', 'keep', 'remove', 'sampleRows'].filter((k) => argv[k as keyof Argvs] !== undefined);
    if (given.length) throw new UsageError(`--${given[0].replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: in round 2 the plan ${argv.plan} fixes the transforms and the sample; give them to \`merge --plan\` in round 1`);
    if (argv.save) throw new UsageError('--save writes merged round-1 statistics: give it to the round-1 merge');
    const plan = await loadPlan(argv.plan);
    const partials = jsons.map((j, k) => named(files[k], () => partialFromJSON(j, plan)));
    result = await analyzePlan(plan, partials, files, { backend: argv.backend, onWarning: warn });
  } else {
    const shards = jsons.map((j, k) => named(files[k], () => shardFromJSON(j)));
    const opts = { ...transformParams(argv), transforms: argv.transform ?? 'isobn', backend: argv.backend, onWarning: warn, allowMissing: argv.allowMissing };
    if (argv.plan && argv.allowMissing) throw new UsageError('--allow-missing is for one-round merges: a plan needs every shard');
    if (argv.save) await saveMerged(argv.save, shards, files, parseTransforms(opts.transforms).includes('isobn-running'), argv.allowMissing, protect, warn);
    if (argv.plan) {
      const { plan, analysis } = await planShards(shards, files, { ...opts, sampleRows: argv.sampleRows });
      await writeFileAtomic(argv.plan, `${JSON.stringify(planToJSON(plan))}\n`, { protect });
      (argv.json ? process.stderr : process.stdout).write(
        `plan: ${argv.plan} (${plan.shards.length} shard(s); round 2: isotropy stats SHARD --plan ${argv.plan} --out PARTIAL, then isotropy merge --plan ${argv.plan} PARTIALS)\n`);
      result = analysis;
    } else {
      result = await analyzeShards(shards, files, opts);
    }
  }
  if (argv.out) await saveReport(result, argv.out, { interactive: argv.interactive, protect });
  process.stdout.write(argv.json ? `${JSON.stringify(result, null, 2)}\n` : formatAnalysis(result));
  if (argv.out && !(argv.json && argv.quiet)) (argv.json ? process.stderr : process.stdout).write(`report: ${argv.out}\n`);
}

/**
 * The merged statistics, with isobn-running's composed state when every shard has one (an error
 * composing it is one only when isobn-running was asked for).
 */
async function saveMerged(path: string, shards: Shard[], files: string[], needRunning: boolean, allowMissing: boolean, protect: string[], warn: (m: string) => void): Promise<void> {
  const haveRunning = shards.every((s) => s.running);
  let merged;
  try {
    merged = mergeShards(shards, files, needRunning || haveRunning, { allowMissing });
  } catch (e) {
    if (needRunning || !haveRunning) throw e;
    warn(`--save: the isobn-running states are left out: ${(e as Error).message}`);
    merged = mergeShards(shards, files, false, { allowMissing });
  }
  await writeFileAtomic(path, `${JSON.stringify(shardToJSON(merged))}\n`, { protect });
}
