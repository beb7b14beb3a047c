// SVG snapshots of every chart on a small seeded analysis. The SVG is stored as rendered (its
// coordinates already rounded to 0.1 px), one tag per line, with each PNG replaced by its hash.
//
//   UPDATE_SNAPSHOTS=1 npm test     # rewrite test/report/__snapshots__/*.svg after a deliberate change
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Analysis } from '../../src/analyze/schema.ts';
import type { Chart } from '../../src/report/charts/common.ts';
import { corrHeatmapChart } from '../../src/report/charts/corr-heatmap.ts';
import { spectrumChart } from '../../src/report/charts/spectrum.ts';
import { stdHistogramChart } from '../../src/report/charts/std-histogram.ts';
import { renderSvg } from '../../src/report/render.ts';
import { layerMetricsChart } from '../../src/report/charts/layer-metrics.ts';
import { metricsGlanceChart } from '../../src/report/charts/metrics-glance.ts';
import { rogueDimsChart } from '../../src/report/charts/rogue-dims.ts';
import { CHART_BUILDERS, fixtureAnalysis, layeredAnalysis } from './fixture.ts';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '__snapshots__');
const UPDATE = process.env.UPDATE_SNAPSHOTS === '1';

/** The stored form of an SVG: PNG payloads hashed, one tag per line. */
export function normalizeSvg(svg: string): string {
  return svg
    .replace(/data:image\/png;base64,([A-Za-z0-9+/=]+)/g, (_, b64: string) => `data:image/png;sha256,${createHash('sha256').update(b64).digest('hex').slice(0, 16)}`)
    .replace(/></g, '>\n<') + '\n';
}

async function check(name: string, chart: Chart | null): Promise<void> {
  assert.ok(chart, name);
  const svg = normalizeSvg(await renderSvg(chart!.spec, chart!.id));
  const file = join(DIR, `${name}.svg`);
  if (UPDATE) {
    mkdirSync(DIR, { recursive: true });
    writeFileSync(file, svg);
    return;
  }
  assert.ok(existsSync(file), `no snapshot ${file}: run with UPDATE_SNAPSHOTS=1 to create it`);
  const want = readFileSync(file, 'utf8');
  if (svg !== want) {
    const a = svg.split('\n'), b = want.split('\n');
    const k = a.findIndex((line, i) => line !== b[i]);
    assert.unreachable(`${name}.svg differs from the snapshot at line ${k + 1}:\n  got:  ${a[k]?.slice(0, 200)}\n  want: ${b[k]?.slice(0, 200)}\n(UPDATE_SNAPSHOTS=1 rewrites it after a deliberate change)`);
  }
}

const one: Analysis = await fixtureAnalysis({ rows: 60, dims: 12, sample: 40 });
const two: Analysis = await fixtureAnalysis({ rows: 60, dims: 12, sample: 40, labels: ['BERT', 'RoBERTa'], transforms: 'isobn,abtt' });
const three: Analysis = await fixtureAnalysis({ rows: 60, dims: 12, sample: 30, labels: ['BERT', 'RoBERTa', 'GPT-2'], transforms: 'isobn,whiten,abtt', rogue: [2, 3, 0] });
const layered: Analysis = await layeredAnalysis({ rows: 50, dims: 8, sample: 0, layers: 4, labels: ['BERT', 'RoBERTa'], transforms: 'isobn,whiten', secondPass: false });

const CHARTS = CHART_BUILDERS;

for (const [name, build] of CHARTS) {
  test(`${name}: SVG as in the snapshot`, () => check(name, build(one)));
}
test('std-histogram of two inputs: SVG as in the snapshot', () => check('std-histogram-two-inputs', stdHistogramChart(two)));
test('spectrum of two inputs: SVG as in the snapshot', () => check('spectrum-two-inputs', spectrumChart(two)));
test('metrics at a glance of three inputs: SVG as in the snapshot', () => check('metrics-glance-three-inputs', metricsGlanceChart(three)));
test('rogue dimensions of three inputs: SVG as in the snapshot', () => check('rogue-dims-three-inputs', rogueDimsChart(three)));
test('std histogram of three inputs with whitening: SVG as in the snapshot', () => check('std-histogram-three-inputs', stdHistogramChart(three)));
test('metrics across layers: SVG as in the snapshot', () => check('layer-metrics', layerMetricsChart(layered)));

test('the same chart renders to the same bytes twice (ids do not depend on what was rendered before)', async () => {
  const chart = corrHeatmapChart(one)!;
  const a = await renderSvg(chart.spec, chart.id);
  await renderSvg(spectrumChart(one)!.spec, 'other');
  assert.is(await renderSvg(chart.spec, chart.id), a);
});

test.run();
