import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Argv } from 'yargs';
import { writeFileAtomic } from '../../index.js';
import { UsageError } from '../errors.js';
import { readOptions, warner } from '../options.js';
import { Progress } from '../progress.js';

export const command = 'probe <embeddings>';
export const describe = 'Does IsoBN help a classifier on frozen embeddings? Linear and MLP probes, k-fold CV over seeds';

export function builder(y: Argv) {
  return readOptions(y
    .positional('embeddings', { type: 'string', demandOption: true, describe: 'embeddings file: .npy (n, d) or (n, layers, d), .npz, safetensors, Parquet, Arrow, HDF5, GloVe/word2vec, CSV/TSV, JSONL' })
    .option('labels', { type: 'string', demandOption: true, describe: 'one label per row, in order: a text file (one per line), or a .csv/.tsv column or .jsonl field (--label-column)' })
    .option('label-column', { type: 'string', describe: 'CSV/TSV column (header name or 0-based index) or JSONL field (a.b for nested) holding the label' })
    .option('label-word', { type: 'string', describe: 'GloVe/word2vec input: join labels to rows by word; the CSV/TSV column or JSONL field holding the word (rows without a label are left out)' })
    .option('threshold', { type: 'number', describe: 'labels are numbers: two classes, <= T and > T (e.g. 0 for valence scores)' })
    .option('isobn', { type: 'boolean', default: false, describe: 'also train every classifier behind an IsoBN layer, and compare' })
    .option('folds', { type: 'number', default: 5, describe: 'folds of the stratified cross-validation' })
    .option('seeds', { type: 'number', default: 5, describe: 'repeat the cross-validation over this many seeds' })
    .option('seed', { type: 'number', default: 0, describe: 'first seed (fold splits, initial weights, batch order)' })
    .option('models', { type: 'string', default: 'linear,mlp', describe: 'classifiers: linear (softmax regression), mlp (one ReLU hidden layer), or both' })
    .option('epochs', { type: 'number', default: 50, describe: 'training epochs per run', group: 'Training:' })
    .option('batch-size', { type: 'number', default: 32, describe: 'rows per training batch (full batches only, as the official IsoBN loop)', group: 'Training:' })
    .option('lr', { type: 'number', default: 1e-3, describe: "Adam's learning rate", group: 'Training:' })
    .option('hidden', { type: 'number', default: 128, describe: 'hidden units of the mlp', group: 'Training:' })
    .option('backend', { choices: ['cpu', 'wasm'] as const, default: 'cpu' as const, describe: 'tfjs backend: cpu (same numbers on every machine) or wasm (faster)', group: 'Training:' })
    .option('momentum', { type: 'number', default: 0.05, describe: 'IsoBN: weight of each batch in the running statistics', group: 'IsoBN layer:' })
    .option('eps', { type: 'number', default: 1e-3, describe: 'IsoBN epsilon', group: 'IsoBN layer:' })
    .option('beta', { type: 'number', default: 0.5, describe: 'IsoBN exponent: a_i = (gamma_i s_i + eps)^-beta', group: 'IsoBN layer:' })
    .option('json', { type: 'boolean', default: false, describe: 'print the isotropy.probe/v1 JSON on stdout instead of the table' })
    .option('out', { alias: 'o', type: 'string', describe: 'also write the isotropy.probe/v1 JSON to this file (isotropy report --probe reads it)' }))
    .example('$0 probe emb.npy --labels labels.txt --isobn', 'linear and MLP probes with and without IsoBN, 5 folds x 5 seeds')
    .example('$0 probe emb.npy --labels data.csv --label-column sentiment --models linear --json', 'a linear probe only, JSON out')
    .example('$0 probe words.npy --labels valence.txt --threshold 0 --isobn', 'numeric labels split at 0')
    .example('$0 probe glove.txt --labels lexicon.csv --label-word word --label-column valence --threshold 0', 'labels joined to GloVe rows by word');
}

export async function handler(argv: Awaited<ReturnType<typeof builder>['argv']>): Promise<void> {
  const models = String(argv.models).split(',').map((s) => s.trim()).filter(Boolean);
  for (const m of models) if (m !== 'linear' && m !== 'mlp') throw new UsageError(`--models: unknown classifier "${m}"; use linear, mlp or linear,mlp`);
  if (argv.out) await checkOut(argv.out, [argv.embeddings as string, argv.labels]);
  const progress = new Progress(!argv.quiet, process.stderr, 1000, 'runs');
  // tfjs is loaded only by this command
  const { probeFiles, formatProbe } = await import('../../probe/index.js');
  try {
    const result = await probeFiles(argv.embeddings as string, argv.labels, {
      labelColumn: argv.labelColumn,
      labelWord: argv.labelWord,
      threshold: argv.threshold,
      layer: argv.layer,
      key: argv.key,
      column: argv.column,
      field: argv.field,
      dropNonfinite: argv.dropNonfinite,
      isobn: argv.isobn,
      folds: argv.folds,
      seeds: argv.seeds,
      seed: argv.seed,
      models: models as ('linear' | 'mlp')[],
      epochs: argv.epochs,
      batchSize: argv.batchSize,
      learningRate: argv.lr,
      hidden: argv.hidden,
      backend: argv.backend,
      momentum: argv.momentum,
      eps: argv.eps,
      beta: argv.beta,
      onWarning: warner(argv.quiet),
      onProgress: (done, total) => progress.update('probe', done, total),
    });
    progress.done();
    const json = `${JSON.stringify(result, null, 2)}\n`;
    if (argv.out) await writeFileAtomic(argv.out, json, { protect: [argv.embeddings as string, argv.labels] });
    process.stdout.write(argv.json ? json : formatProbe(result));
  } finally {
    progress.done();
  }
}

/** Fails before the training when --out cannot be written: a missing folder, a folder as target, an input. */
async function checkOut(out: string, inputs: string[]): Promise<void> {
  const folder = await stat(dirname(resolve(out))).catch(() => null);
  if (!folder?.isDirectory()) throw new UsageError(`--out ${out}: the folder ${dirname(resolve(out))} does not exist; create it first`);
  if ((await stat(out).catch(() => null))?.isDirectory()) throw new UsageError(`--out ${out}: is a directory; give a file name such as ${out}/probe.json`);
  if (inputs.some((p) => resolve(p) === resolve(out))) throw new UsageError(`--out ${out}: is one of the inputs; choose another file`);
}
