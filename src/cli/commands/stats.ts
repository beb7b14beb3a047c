import type { Argv } from 'yargs';
import { computePartial, computeShard, partialToJSON, planFromJSON, shardToJSON, writeFileAtomic } from '../../index.js';
import { UsageError } from '../errors.js';
import { checkOutputPath } from '../output-path.js';
import { memoryOption, readOptions } from '../options.js';
import { Progress } from '../progress.js';
import { readJsonFile } from '../read-json.js';

export const command = 'stats <file>';
export const describe = 'Statistics of one shard (round 1), or its second-round partial with --plan (round 2), to merge later';

export function builder(y: Argv) {
  return memoryOption(readOptions(y
    .positional('file', { type: 'string', demandOption: true, describe: 'one embeddings file, any format analyze reads (a shard, or the whole file with --shard)' })
    .option('out', { alias: ['o', 'save'], type: 'string', describe: 'write the JSON to this file (default: stdout)' })
    .option('shard', { type: 'string', describe: 'only part i of N of the rows, 0-based (e.g. $SLURM_ARRAY_TASK_ID/4)' })
    .option('plan', { type: 'string', describe: 'round 2: the plan from `isotropy merge SHARDS --plan PLAN`; writes this shard\'s partial' })
    .option('transform', { alias: 't', type: 'string', describe: 'round 1: the transforms merge will be asked for; isobn-running needs its running state from here' })
    .option('batch-size', { type: 'number', describe: 'isobn-running: rows per batch (default 16)', group: 'Transform parameters:' })
    .option('momentum', { type: 'number', describe: 'isobn-running: weight of each batch (default 0.05)', group: 'Transform parameters:' })
    .option('backend', { type: 'string', default: 'auto', describe: 'kernels: auto (native > wasm > js), native, wasm, tfjs-node, js' })
    .option('threads', { type: 'number', describe: 'compute threads for wasm and js (default: all cores, at most 8)' })))
    .example('$0 stats emb.npy --shard 0/4 --out s_0.json', 'round 1: statistics of the first quarter of the rows')
    .example('$0 stats emb.npy --shard 0/4 --plan plan.json --out p_0.json', 'round 2, after isotropy merge s_*.json --plan plan.json');
}

export async function handler(argv: Awaited<ReturnType<typeof builder>['argv']>): Promise<void> {
  const progress = new Progress(!argv.quiet);
  const file = argv.file as string;
  const out = argv.out;
  const inputs = [file, ...(argv.plan ? [argv.plan] : [])];
  if (out) await checkOutputPath(out, inputs);
  const kernels = { backend: argv.backend, threads: argv.threads, layer: argv.layer, key: argv.key, column: argv.column, field: argv.field, shard: argv.shard, revision: argv.revision };
  const onRows = (done: number, total: number) => progress.update(`${file}${argv.shard ? ` part ${argv.shard}` : ''}`, done, total);
  try {
    let text: string;
    let summary: string;
    if (argv.plan) {
      for (const flag of ['transform', 'batchSize', 'momentum'] as const) {
        if (argv[flag] !== undefined) throw new UsageError(`--${flag === 'batchSize' ? 'batch-size' : flag} belongs to round 1: in round 2 the plan ${argv.plan} fixes the transforms`);
      }
      const plan = await loadPlan(argv.plan);
      const partial = await computePartial(file, plan, { ...kernels, onRows });
      text = `${JSON.stringify(partialToJSON(partial))}\n`;
      summary = `round-2 partial of ${partial.count} rows for plan ${plan.id.slice(0, 12)}`;
    } else {
      const shard = await computeShard(file, {
        ...kernels, dropNonfinite: argv.dropNonfinite, transforms: argv.transform, batchSize: argv.batchSize, momentum: argv.momentum, maxMemory: argv.maxMemory, onRows,
      });
      const acc = shard.acc;
      text = `${JSON.stringify(shardToJSON(shard))}\n`;
      summary = `statistics of ${acc.count} rows x ${acc.dims} dims` + (acc.nonfiniteRows ? ` (${acc.nonfiniteRows} rows dropped)` : '');
    }
    progress.done();
    if (out) {
      await writeFileAtomic(out, text, { protect: inputs });
      process.stdout.write(`${out}: ${summary}\n`);
    } else {
      process.stdout.write(text);
    }
  } finally {
    progress.done();
  }
}

/** Reads and checks a plan file; problems name the file. */
export async function loadPlan(path: string) {
  const json = await readJsonFile(path, 'a plan written by `isotropy merge SHARDS --plan PLAN`');
  try {
    return planFromJSON(json);
  } catch (e) {
    throw (e as { isUserError?: boolean }).isUserError ? new UsageError(`${path}: ${(e as Error).message}`) : e;
  }
}
