import type { Argv } from 'yargs';
import { checkAnalysis, inputLabels } from '../../index.js';
import { UsageError } from '../errors.js';
import { readJsonFile } from '../read-json.js';
import { Progress } from '../progress.js';
import { checkFiguresDir, checkReportPath, defaultReportPath, readProbeFile, saveFigures, saveReport } from '../report-file.js';

export const command = 'report <analysis>';
export const describe = 'HTML report of a saved analysis (isotropy analyze --json > a.json), without the data';

export function builder(y: Argv) {
  return y
    .positional('analysis', { type: 'string', demandOption: true, describe: 'JSON written by isotropy analyze --json' })
    .option('out', { alias: 'o', type: 'string', describe: 'the HTML file to write (default: reports/<name>.html)' })
    .option('label', { type: 'string', array: true, describe: 'name of each input in the report, one per input, in order (default: as saved)' })
    .option('interactive', { type: 'boolean', default: false, describe: 'inline vega so the charts have tooltips and zoom, still offline (larger file)' })
    .option('figures', { type: 'string', describe: 'also write each chart as a standalone SVG (and PNG, with @resvg/resvg-js) with its caption into this folder' })
    .option('probe', { type: 'string', describe: 'add a section with this probe result (isotropy probe --json / --out): accuracy with and without IsoBN' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'do not print the report path' })
    .example('$0 analyze emb.npy --json > a.json && $0 report a.json --out r.html', 'render later, elsewhere, without the .npy')
    .example('$0 report a.json --figures figs/', 'also one SVG (and PNG) per chart, with its caption, for a paper')
    .example('$0 report a.json --probe probe.json', 'with the probe (isotropy probe emb.npy --labels l.txt --isobn --out probe.json)');
}

export async function handler(argv: Awaited<ReturnType<typeof builder>['argv']>): Promise<void> {
  const path = argv.analysis as string;
  if (argv.figures) await checkFiguresDir(argv.figures);
  const json = await readJsonFile(path, 'the output of `isotropy analyze --json`');
  const analysis = checkAnalysis(json, path);
  const probe = argv.probe ? await readProbeFile(argv.probe) : undefined;
  if (!analysis.diagnostics) {
    throw new UsageError(`${path}: this analysis holds no chart data (it was saved with --no-report); run \`isotropy analyze <files> --json > ${path}\` again without --no-report`);
  }
  if (argv.label) {
    const labels = inputLabels(analysis.inputs.map((i) => i.path), argv.label as string[]);
    analysis.inputs.forEach((inp, i) => { inp.label = labels[i]; });
  }
  const out = argv.out ?? defaultReportPath([path]);
  const inputs = argv.probe ? [path, argv.probe] : [path];
  await checkReportPath(out, inputs);
  const drawing = new Progress(!argv.quiet, process.stderr, 1000, 'charts');
  try {
    await saveReport(analysis, out, { interactive: argv.interactive, protect: inputs, probe, onProgress: (done, total) => drawing.update('report', done, total) });
    drawing.done();
    if (!argv.quiet) process.stdout.write(`report: ${out}\n`);
    if (argv.figures) {
      const { files, pngUnavailable } = await saveFigures(analysis, argv.figures, { protect: inputs, onProgress: (done, total) => drawing.update('figures', done, total) });
      drawing.done();
      if (pngUnavailable && !argv.quiet) process.stderr.write(`warning: figures are SVG only. ${pngUnavailable}\n`);
      if (!argv.quiet) process.stdout.write(`figures: ${argv.figures} (${files.length} files)\n`);
    }
  } finally {
    drawing.done();
  }
}
