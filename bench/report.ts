/**
 * Report rendering time and page size. Default case, the one the report is held to: three inputs
 * (BERT-like, with rogue dimensions) x four views (before, IsoBN, whiten, ABTT) at d = 768, 2,000
 * rows each, the default PCA sample, one page; target under 1.5 s on one core.
 *
 *   node --import tsx bench/report.ts                 # prints e.g. "report 3 inputs x 4 views d=768: wall best 1.10 s ..."
 *   taskset -c 0 node --import tsx bench/report.ts    # on one core, as the target is stated
 *   node --import tsx bench/report.ts --d1024         # one input, all six views, d = 1024
 *   node --import tsx bench/report.ts --fresh         # rebuild the cached analysis
 *   node --import tsx bench/report.ts --out r.html    # also write the static page
 *   node --import tsx bench/report.ts --runs 7        # rounds (default 5)
 *
 * Building the analysis takes 20-40 s here, so it is cached as JSON in the OS temp folder; only
 * the rendering is timed. Each mode is rendered once to warm up (module loading, JIT), then the
 * static and the interactive page are rendered in alternation, so that a neighbour's load on a
 * shared machine falls on both alike. Wall time (best and median) and the process' CPU time
 * (user + system, all threads, GC included) of each render are printed.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Analysis } from '../src/analyze/schema.ts';
import { DEFAULT_SAMPLE_ROWS } from '../src/analyze/sample.ts';
import { renderReport } from '../src/report/index.ts';
import { ALL_TRANSFORMS, fixtureAnalysis } from '../test/report/fixture.ts';

const args = process.argv.slice(2);
const big = args.includes('--d1024');
const runs = args.includes('--runs') ? Number(args[args.indexOf('--runs') + 1]) : 5;
const c = big
  ? { name: 'report 1 input x 6 views d=1024', dims: 1024, rows: 3000, labels: ['bench'], transforms: ALL_TRANSFORMS, rogue: [0] }
  : { name: 'report 3 inputs x 4 views d=768', dims: 768, rows: 2000, labels: ['BERT', 'RoBERTa', 'GPT-2'], transforms: 'isobn,whiten,abtt', rogue: [3, 5, 0] };
// What `isotropy analyze` samples by default (--sample-rows), so the page is the one users get.
const cache = join(tmpdir(), `isotropy-report-bench-${c.labels.length}x${c.dims}x${c.rows}-s${DEFAULT_SAMPLE_ROWS}-v3.json`);

async function analysis(): Promise<Analysis> {
  if (!args.includes('--fresh') && existsSync(cache)) return JSON.parse(readFileSync(cache, 'utf8')) as Analysis;
  process.stdout.write(`building the analysis (cached in ${cache}) ...\n`);
  const t = performance.now();
  const a = await fixtureAnalysis({ ...c, sample: DEFAULT_SAMPLE_ROWS, secondPass: true });
  process.stdout.write(`  built in ${((performance.now() - t) / 1000).toFixed(0)} s\n`);
  writeFileSync(cache, JSON.stringify(a));
  return a;
}

const a = await analysis();
const modes = [false, true];
const wall: number[][] = [[], []];
const cpu: number[][] = [[], []];
const bytes = [0, 0];
for (const interactive of modes) await renderReport(a, { interactive });
for (let k = 0; k < runs; k++) {
  for (const [m, interactive] of modes.entries()) {
    const t = performance.now();
    const u = process.cpuUsage();
    const html = await renderReport(a, { interactive });
    const used = process.cpuUsage(u);
    wall[m].push((performance.now() - t) / 1000);
    cpu[m].push((used.user + used.system) / 1e6);
    bytes[m] = Buffer.byteLength(html);
    if (!interactive && k === 0 && args.includes('--out')) writeFileSync(args[args.indexOf('--out') + 1], html);
  }
}
const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[xs.length >> 1];
for (const [m, interactive] of modes.entries()) {
  process.stdout.write(`${c.name}${interactive ? ' --interactive' : ''}: wall best ${Math.min(...wall[m]).toFixed(2)} s, median ${median(wall[m]).toFixed(2)} s; `
    + `cpu median ${median(cpu[m]).toFixed(2)} s; ${(bytes[m] / 1e6).toFixed(2)} MB (${runs} alternating runs)\n`);
}
