import type { Argv } from 'yargs';
import { analyze, checkAnalysisJsonSize, DEFAULT_SAMPLE_ROWS, openEmbeddings, parseTransforms } from '../../index.js';
import { UsageError } from '../errors.js';
import { formatAnalysis } from '../format.js';
import { memoryOption, parseLayers, readOptions, transformParamOptions, transformParams, warner } from '../options.js';
import { Progress } from '../progress.js';
import { checkFiguresDir, defaultReportPath, prepareReportPath, readProbeFile, saveFigures, saveReport } from '../report-file.js';

export const command = 'analyze <files..>';
export const describe = 'Isotropy metrics of embeddings, before and after IsoBN (and other transforms)';

export function builder(y: Argv) {
  return memoryOption(transformParamOptions(readOptions(y
    .positional('files', { type: 'string', array: true, demandOption: true, describe: 'embedding files: .npy (n, d) or (n, layers, d), .npz, safetensors, Parquet, Arrow, HDF5, GloVe/word2vec, CSV/TSV, JSONL; https:// or hf://datasets/ORG/NAME/PATH URLs; a directory or a quoted glob (one dataset)' })
    .option('concat', { type: 'boolean', default: false, describe: 'read all the files given as one dataset (shards, in the order given) instead of separate inputs' })
    .option('layers', { type: 'string', describe: 'several layers of (n, layers, d) input in one read: all, or indices such as 0,6,-1 (one result per layer)' })
    .option('json', { type: 'boolean', default: false, describe: 'print the isotropy.analysis/v1 JSON on stdout instead of the table' })
    .option('transform', { alias: 't', type: 'string', default: 'isobn', describe: 'comma-separated: none, isobn, isobn-running, standardize, whiten, abtt' })
    .option('one-pass', { type: 'boolean', default: false, describe: 'read each file once: skips I(W) and the cosines of transformed rows' })
    .option('report', { type: 'boolean', default: true, describe: 'write the HTML report; --no-report: metrics only (and no chart data in --json)', group: 'Report:' })
    .option('out', { alias: 'o', type: 'string', describe: 'the HTML report to write (default: reports/<name>.html)', group: 'Report:' })
    .option('label', { type: 'string', array: true, describe: 'name of each input in the report, one per file, in order (default: file names)', group: 'Report:' })
    .option('interactive', { type: 'boolean', default: false, describe: 'inline vega so the charts have tooltips and zoom, still offline (larger file)', group: 'Report:' })
    .option('figures', { type: 'string', describe: 'also write each chart as a standalone SVG (and PNG, with @resvg/resvg-js) with its caption into this folder', group: 'Report:' })
    .option('probe', { type: 'string', describe: 'add a section with this probe result (isotropy probe --json / --out): accuracy with and without IsoBN', group: 'Report:' })
    .option('sample-rows', { type: 'number', default: DEFAULT_SAMPLE_ROWS, describe: 'rows in the seeded PCA scatter, 0 to 5000', group: 'Report:' })
    .option('backend', { type: 'string', default: 'auto', describe: 'kernels: auto (native > wasm > js), native (OpenBLAS addon), wasm, tfjs-node, js' })
    .option('threads', { type: 'number', describe: 'compute threads for wasm and js (default: all cores, at most 8, fewer when memory is short); native and tfjs-node thread themselves' }))))
    .example('$0 analyze emb.npy', 'table of metrics before and after IsoBN, and reports/emb.html')
    .example('$0 analyze bert.npy roberta.npy --label BERT --label RoBERTa', 'one comparison report')
    .example('$0 analyze bert.npy roberta.npy --transform isobn,standardize --json', 'JSON for two files, two transforms')
    .example("$0 analyze 'emb/*.parquet' --column embedding", 'the shards of a dataset as one input')
    .example('$0 analyze layers.npy --layers all', 'every layer of an (n, L, d) file, in one read')
    .example('$0 analyze hf://datasets/ORG/NAME/data/train.parquet', 'a Hugging Face dataset file, read with Range requests');
}

export async function handler(argv: Awaited<ReturnType<typeof builder>['argv']>): Promise<void> {
  const progress = new Progress(!argv.quiet);
  const files = argv.files as string[];
  const layers = parseLayers(argv.layers);
  if (layers !== undefined && argv.layer !== undefined) throw new UsageError('give either --layer (one layer) or --layers (several), not both');
  if (argv.concat && files.length < 2) throw new UsageError('--concat reads several files as one dataset: give two or more (a directory or a quoted glob needs no --concat)');
  if (argv.concat && argv.label && argv.label.length > 1) throw new UsageError('--concat makes one input: give at most one --label');
  if (!argv.report && (argv.out || argv.interactive || argv.figures || argv.probe)) throw new UsageError('--out, --interactive, --figures and --probe are about the report: leave out --no-report');
  // Everything that can fail without reading the data fails now, not after the analysis.
  if (argv.figures) await checkFiguresDir(argv.figures);
  const probe = argv.probe ? await readProbeFile(argv.probe) : undefined;
  const inputs = argv.probe ? [...files, argv.probe] : files;
  const reportPath = argv.report ? argv.out ?? defaultReportPath(argv.concat ? [files[0]] : files) : null;
  if (reportPath) await prepareReportPath(reportPath, inputs, ', or --no-report');
  if (argv.json && argv.report) {
    // the chart data's d x d rasters must fit in one JSON string: from the headers alone
    const dims: number[] = [];
    for (const f of argv.concat ? [files[0]] : files) {
      const s = await openEmbeddings(f, { layer: argv.layer, layers, key: argv.key, column: argv.column, field: argv.field, revision: argv.revision });
      const k = s.layers?.length ?? 1;
      for (let j = 0; j < k; j++) dims.push(s.dims / k);
      await s.close();
    }
    checkAnalysisJsonSize(dims, parseTransforms(argv.transform));
  }
  try {
    const result = await analyze(files, {
      ...transformParams(argv),
      transforms: argv.transform,
      layer: argv.layer,
      layers,
      concat: argv.concat,
      revision: argv.revision,
      key: argv.key,
      column: argv.column,
      field: argv.field,
      dropNonfinite: argv.dropNonfinite,
      onePass: argv.onePass,
      diagnostics: argv.report,
      sampleRows: argv.sampleRows,
      labels: argv.label as string[] | undefined,
      backend: argv.backend,
      threads: argv.threads,
      maxMemory: argv.maxMemory,
      onWarning: warner(argv.quiet),
      onProgress: (p) => progress.update(`${p.path} pass ${p.pass}/${argv.onePass ? 1 : 2}`, p.rowsDone, p.rowsTotal),
    });
    progress.done();
    // drawing has its own progress, in charts, silent when it takes less than a second
    const drawing = new Progress(!argv.quiet, process.stderr, 1000, 'charts');
    const charts = (what: string) => (done: number, total: number) => drawing.update(what, done, total);
    if (reportPath) {
      await saveReport(result, reportPath, { interactive: argv.interactive, protect: inputs, probe, onProgress: charts('report') });
      drawing.done();
    }
    let figures = '';
    if (argv.figures) {
      const { files: written, pngUnavailable } = await saveFigures(result, argv.figures, { protect: inputs, onProgress: charts('figures') });
      drawing.done();
      // said once: the figures are still written, as SVG
      if (pngUnavailable && !argv.quiet) process.stderr.write(`warning: figures are SVG only. ${pngUnavailable}\n`);
      figures = `figures: ${argv.figures} (${written.length} files)\n`;
    }
    process.stdout.write(argv.json ? `${JSON.stringify(result, null, 2)}\n` : formatAnalysis(result));
    // With --json, stdout is the JSON alone.
    const paths = `${reportPath ? `report: ${reportPath}\n` : ''}${figures}`;
    if (paths && !(argv.json && argv.quiet)) (argv.json ? process.stderr : process.stdout).write(paths);
  } finally {
    progress.done();
  }
}
