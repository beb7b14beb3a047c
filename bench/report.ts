/**
 * Report rendering at d = 1024 with every transform (none, isobn, isobn-running, standardize,
 * whiten, abtt), one input: time of renderReport and size of the page, static and --interactive.
 *
 *   node --import tsx bench/report.ts            # prints e.g. "report d=1024 transforms=6: 1.8 s, 3.1 MB"
 *   node --import tsx bench/report.ts --fresh    # rebuild the cached analysis
 *   node --import tsx bench/report.ts --out r.html   # also write the static page
 *
 * Building the analysis (3,000 rows, eight 1024 x 1024 eigendecompositions) takes about 20 s
 * here, so it is cached as JSON in the OS temp folder; only the rendering is timed. Each mode is
 * rendered once to warm up (module loading, JIT), then timed as the best of 3 runs.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Analysis } from '../src/analyze/schema.ts';
import { DEFAULT_SAMPLE_ROWS } from '../src/analyze/sample.ts';
import { renderReport } from '../src/report/index.ts';
import { ALL_TRANSFORMS, fixtureAnalysis } from '../test/report/fixture.ts';

const DIMS = 1024;
const ROWS = 3000;
// What `isotropy analyze` samples by default (--sample-rows), so the page is the one users get.
const SAMPLE = DEFAULT_SAMPLE_ROWS;
const args = process.argv.slice(2);
const cache = join(tmpdir(), `isotropy-report-bench-${DIMS}x${ROWS}-s${SAMPLE}-v2.json`);

async function analysis(): Promise<Analysis> {
  if (!args.includes('--fresh') && existsSync(cache)) return JSON.parse(readFileSync(cache, 'utf8')) as Analysis;
  process.stdout.write(`building the d=${DIMS} analysis (cached in ${cache}) ...\n`);
  const t = performance.now();
  const a = await fixtureAnalysis({ rows: ROWS, dims: DIMS, transforms: ALL_TRANSFORMS, sample: SAMPLE, secondPass: false, labels: ['bench'] });
  process.stdout.write(`  built in ${((performance.now() - t) / 1000).toFixed(0)} s\n`);
  writeFileSync(cache, JSON.stringify(a));
  return a;
}

const a = await analysis();
const transforms = a.results.filter((r) => r.input === 0).length;
for (const interactive of [false, true]) {
  let html = await renderReport(a, { interactive });
  let best = Infinity;
  for (let k = 0; k < 3; k++) {
    const t = performance.now();
    html = await renderReport(a, { interactive });
    best = Math.min(best, performance.now() - t);
  }
  const mb = Buffer.byteLength(html) / 1e6;
  process.stdout.write(`report d=${DIMS} transforms=${transforms}${interactive ? ' --interactive' : ''}: ${(best / 1000).toFixed(2)} s, ${mb.toFixed(2)} MB\n`);
  const out = args[args.indexOf('--out') + 1];
  if (!interactive && args.includes('--out') && out) writeFileSync(out, html);
}
