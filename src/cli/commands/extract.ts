import type { Argv } from 'yargs';
import { extract, type Pooling } from '../../index.js';
import { UsageError } from '../errors.js';
import { parseLayers, warner } from '../options.js';
import { Progress } from '../progress.js';

export const command = 'extract';
export const describe = 'Dump [CLS] / pooler / mean vectors of sentences from a BERT or RoBERTa checkpoint to .npy';

export function builder(y: Argv) {
  return y
    .option('model', { type: 'string', demandOption: true, describe: 'Hugging Face model folder, or a model id to download (HF_ENDPOINT, HF_HOME)' })
    .option('input', { type: 'string', demandOption: true, describe: 'sentences: .txt (one per line), .jsonl (--field), .tsv/.csv (--column)' })
    .option('out', { alias: 'o', type: 'string', demandOption: true, describe: 'output .npy (several poolings: emb.cls.npy, ...); a sidecar emb.json is written beside it' })
    .option('field', { type: 'string', describe: 'JSONL field holding the sentence (a.b for nested)' })
    .option('column', { type: 'string', describe: 'TSV/CSV column holding the sentence (name or 0-based index)' })
    .option('pair-field', { type: 'string', describe: 'field/column of the second sentence of a pair (e.g. MNLI hypothesis)' })
    .option('pooling', { type: 'string', default: 'cls', describe: 'comma-separated: cls, pooler (dense+tanh over the last [CLS], where IsoBN acts), mean' })
    .option('layers', { type: 'string', default: '-1', describe: "hidden states: 'all', or comma-separated indices (0 = embeddings, -1 = last)" })
    .option('max-length', { type: 'number', describe: 'tokens per sentence incl. special tokens (default 128, or fewer if the model has fewer positions); longer ones are truncated and counted' })
    .option('batch-size', { type: 'number', default: 32, describe: 'sentences per forward pass' })
    .option('backend', {
      choices: ['auto', 'native', 'tfjs-node', 'wasm', 'js', 'tensorflow', 'cpu'] as const,
      default: 'auto',
      describe: 'encoder backend, named as in analyze: auto (native if the OpenBLAS addon is built, else tfjs-node if installed, else wasm, else js), native, tfjs-node, wasm, js (tfjs\'s plain-JS cpu backend); tensorflow and cpu are the old names',
    })
    .option('threads', { type: 'number', describe: 'encoder threads (default: OpenBLAS threads for native, the cores for wasm/js, 1 for tfjs-node)' })
    .option('revision', { type: 'string', default: 'main', describe: 'hub revision (branch, tag or commit) for a model id' })
    .option('offline', { type: 'boolean', default: false, describe: 'never use the network: the model must be a folder or in the cache' })
    .option('download-deadline', { type: 'number', describe: 'seconds the model download may take in all, 0 for no limit (default: ISOTROPY_DOWNLOAD_DEADLINE, else 3600); a partial file resumes next time' })
    .option('drop-nonfinite', { type: 'boolean', default: false, describe: 'leave out sentences whose vectors hold NaN/Inf (counted on stderr and in the sidecar) instead of failing' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no progress or warnings on stderr' })
    .example('$0 extract --model ./bert-base-cased --input sentences.txt --out emb.npy', '[CLS] vectors of the last layer')
    .example('$0 extract --model roberta-base --input data.jsonl --field sentence --pooling cls,pooler,mean --layers all --out emb.npy', 'every pooling and layer');
}

/** `--backend` values (the names analyze uses, and the old ones) to the encoder's backends. */
const EXTRACT_BACKENDS: Record<string, 'native' | 'tensorflow' | 'wasm' | 'cpu' | undefined> = {
  auto: undefined, native: 'native', 'tfjs-node': 'tensorflow', tensorflow: 'tensorflow', wasm: 'wasm', js: 'cpu', cpu: 'cpu',
};

/** The encoder's backend names as analyze names them. */
const SHOWN_BACKEND: Record<string, string> = { native: 'native', tensorflow: 'tfjs-node', wasm: 'wasm', cpu: 'js' };


function deadlineMs(seconds: number | undefined): number | undefined {
  if (seconds === undefined) return undefined;
  if (!Number.isFinite(seconds) || seconds < 0) throw new UsageError(`--download-deadline takes a number of seconds (0 for no limit), got ${seconds}`);
  return seconds * 1000;
}

export async function handler(argv: Awaited<ReturnType<typeof builder>['argv']>): Promise<void> {
  // yargs makes an array of a flag given twice; say so instead of failing on the array.
  for (const flag of ['model', 'input', 'out', 'field', 'column', 'pair-field', 'pooling', 'layers', 'revision'] as const) {
    if (Array.isArray(argv[flag])) throw new UsageError(`--${flag} is given more than once; give it once`);
  }
  // extract() checks the names (one message for the CLI and the API).
  const poolings = argv.pooling.split(',').map((p) => p.trim()).filter(Boolean) as Pooling[];
  const progress = new Progress(!argv.quiet, process.stderr, 1000, 'sentences');
  const warn = warner(argv.quiet);
  try {
    const meta = await extract({
      model: argv.model,
      input: argv.input,
      out: argv.out,
      field: argv.field,
      column: argv.column,
      pairField: argv.pairField,
      poolings,
      layers: parseLayers(argv.layers),
      maxLength: argv.maxLength,
      batchSize: argv.batchSize,
      backend: EXTRACT_BACKENDS[argv.backend],
      threads: argv.threads,
      dropNonfinite: argv.dropNonfinite,
      hub: { revision: argv.revision, offline: argv.offline || undefined, deadlineMs: deadlineMs(argv.downloadDeadline), onProgress: (file, done, total) => progress.update(`download ${file}`, done, total ?? done) },
      onWarning: warn,
      onBackend: (b, threads) => { if (!argv.quiet) process.stderr.write(`backend: ${SHOWN_BACKEND[b] ?? b}, ${threads} thread(s)\n`); },
      onProgress: (done, total) => progress.update('extract', done, total),
    });
    progress.done();
    for (const o of meta.outputs) process.stdout.write(`${o.path}: ${o.pooling} (${o.shape.join(' x ')}) float32\n`);
    process.stdout.write(`${meta.sentences} sentences, ${meta.truncated} truncated, backend ${SHOWN_BACKEND[meta.backend] ?? meta.backend} x${meta.threads}, model ${meta.model}${meta.commit ? `@${meta.commit.slice(0, 10)}` : ''}\n`);
  } finally {
    progress.done();
  }
}
