// Unit tests on the chart spec builders: what data and encodings they produce, that Vega-Lite
// compiles every spec without a warning, and that colours are the same in every chart.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decode } from 'fast-png';
import type { Analysis } from '../../src/analyze/schema.ts';
import type { Json } from '../../src/report/charts/common.ts';
import { CORR_SHADES, corrHeatmapChart, distinctCorrViews } from '../../src/report/charts/corr-heatmap.ts';
import { corrHistogramChart } from '../../src/report/charts/corr-histogram.ts';
import { isobnFactorsChart } from '../../src/report/charts/isobn-factors.ts';
import { pcaScatterChart } from '../../src/report/charts/pca-scatter.ts';
import { explainedVariance, isotropicCumulative, spectrumChart } from '../../src/report/charts/spectrum.ts';
import { STD_BINS, standoutDims, stdHistogramChart } from '../../src/report/charts/std-histogram.ts';
import { stdRanks, stdSortedChart } from '../../src/report/charts/std-sorted.ts';
import { decodeRaster, inputLabels, reportViews } from '../../src/report/model.ts';
import { VIEW_ORDER, VIEW_STYLE } from '../../src/report/palette.ts';
import { maxPoolRaster, rasterPngUrl, schemePalette } from '../../src/report/raster-png.ts';
import { toVega } from '../../src/report/render.ts';
import { CHART_BUILDERS, fixtureAnalysis } from './fixture.ts';

const one = await fixtureAnalysis({ rows: 90, dims: 16 });
const two = await fixtureAnalysis({ rows: 90, dims: 16, labels: ['BERT', 'BERT'], transforms: 'isobn,whiten' });

const BUILDERS = CHART_BUILDERS;

/** Every object in a spec, depth first. */
function nodes(x: unknown, out: Json[] = []): Json[] {
  if (Array.isArray(x)) x.forEach((y) => nodes(y, out));
  else if (x && typeof x === 'object') {
    out.push(x as Json);
    Object.values(x).forEach((y) => nodes(y, out));
  }
  return out;
}

/** The inline data rows of a spec (data.values and datasets), flattened like the spec does. */
function rows(spec: unknown): Json[] {
  const found: Json[] = [];
  for (const n of nodes(spec)) {
    if (n.data && Array.isArray((n.data as Json).values)) found.push(...((n.data as Json).values as Json[]));
    if (n.datasets) for (const v of Object.values(n.datasets as Record<string, Json[]>)) found.push(...v);
  }
  return found;
}

test('every builder makes a chart with an id, a title and a caption, and Vega-Lite compiles it without a warning', () => {
  for (const a of [one, two]) {
    for (const [id, build] of BUILDERS) {
      const chart = build(a);
      assert.ok(chart, id);
      assert.is(chart!.id, id);
      assert.ok(chart!.title.length > 10 && chart!.caption.length > 40, id);
      const warnings: string[] = [];
      toVega(chart!.spec, warnings);
      assert.equal(warnings, [], `${id}: ${warnings.join('; ')}`);
      // no web address in any spec: the page must hold none
      assert.not.match(JSON.stringify(chart!.spec), /https?:\/\//, id);
    }
  }
});

test('every view has the same name and colour in every chart, in the report order', () => {
  for (const [id, build] of BUILDERS) {
    const chart = build(one)!;
    for (const n of nodes(chart.spec)) {
      const scale = n.scale as { domain?: unknown[]; range?: unknown[] } | undefined;
      if (n.field !== 'view' || !scale?.range) continue;
      scale.domain!.forEach((name, k) => {
        const kind = VIEW_ORDER.find((v) => VIEW_STYLE[v].name === name);
        assert.ok(kind, `${id}: ${String(name)}`);
        assert.is(scale.range![k], VIEW_STYLE[kind!].color, `${id}: ${String(name)}`);
      });
      const order = scale.domain!.map((name) => VIEW_ORDER.findIndex((v) => VIEW_STYLE[v].name === name));
      assert.equal(order, [...order].sort((p, q) => p - q), id);
    }
  }
  assert.is(new Set(Object.values(VIEW_STYLE).map((s) => s.color)).size, VIEW_ORDER.length);
});

test('charts that need diagnostics are null without them; the spectrum needs only the results', () => {
  const bare: Analysis = { ...one, diagnostics: undefined };
  for (const [id, build] of BUILDERS) {
    if (id === 'spectrum') assert.ok(build(bare));
    else assert.is(build(bare), null, id);
  }
  const noIsobn = { ...two, results: two.results.filter((r) => r.transform !== 'isobn'), diagnostics: two.diagnostics!.filter((d) => d.transform !== 'isobn') };
  assert.is(isobnFactorsChart(noIsobn), null);
});

test('input labels: the label, else the file name; repeats numbered', () => {
  assert.equal(inputLabels(two), ['BERT', 'BERT (2)']);
  assert.equal(inputLabels(one), ['input-0.npy']);
  assert.equal(inputLabels({ ...one, inputs: [{ ...one.inputs[0], path: 'C:\\data\\x.npy' }] }), ['x.npy']);
});

test('std histogram: shared bins, counts add up to d per view, rows per view and columns per input', () => {
  const spec = stdHistogramChart(two)!.spec as unknown as Json;
  const bins = rows(spec).filter((r) => r.kind === 'bin');
  const views = reportViews(two);
  for (const v of views) {
    const mine = bins.filter((b) => b.view === v.name && b.input === v.label);
    assert.is(mine.reduce((s, b) => s + (b.count as number), 0), v.diag!.std.length, `${v.label} ${v.name}`);
  }
  const width = (bins[0].x1 as number) - (bins[0].x0 as number);
  const hi = Math.max(...views.flatMap((v) => v.diag!.std));
  assert.ok(Math.abs(width - hi / STD_BINS) < 1e-3 * width);
  const facet = spec.facet as Json;
  assert.is((facet.row as Json).field, 'view');
  assert.is((facet.column as Json).field, 'input');
  assert.not.ok((stdHistogramChart(one)!.spec as unknown as Json & { facet: Json }).facet.column);
});

test('standout dimensions: far above the mean, largest first, at most 5, none when all alike', () => {
  const s = Array.from({ length: 100 }, (_, i) => 1 + (i % 7) * 0.01);
  s[42] = 9;
  s[7] = 5;
  assert.equal(standoutDims(s), [42, 7]);
  assert.equal(standoutDims(new Array(50).fill(1)), []);
  // equal up to rounding: no standout, however the z-score comes out
  assert.equal(standoutDims(Array.from({ length: 50 }, (_, i) => (i === 3 ? 1 + 1e-15 : 1))), []);
  const many = Array.from({ length: 1000 }, (_, i) => (i < 8 ? 50 + i : 1));
  assert.equal(standoutDims(many), [7, 6, 5, 4, 3]);
});

test('sorted stds: views that keep the coordinates follow the input ranks, whitening its own', () => {
  assert.equal(stdRanks([0.5, 3, 1, 3]), [4, 1, 3, 2]);
  const series = rows(stdSortedChart(one)!.spec);
  const before = series.find((r) => r.view === 'before')!;
  const isobn = series.find((r) => r.view === 'IsoBN')!;
  const whiten = series.find((r) => r.view === 'whiten')!;
  const rankOf = (r: Json) => new Map((r.dim as number[]).map((d, k) => [d, (r.rank as number[])[k]]));
  assert.equal(rankOf(isobn), rankOf(before));
  const w = whiten.std as number[];
  assert.ok(w.every((x, k) => k === 0 || x <= w[k - 1] * (1 + 1e-9)), 'whitened stds sorted by themselves');
});

test('heatmap: one panel for the input and one per rotation; rescaling views share the input\'s', () => {
  const views = reportViews(one);
  const { distinct, same } = distinctCorrViews(views);
  assert.equal(distinct.map((v) => v.kind), ['none', 'whiten', 'abtt']);
  assert.equal(same.map((v) => v.kind), ['isobn', 'isobn-running', 'standardize']);
  const spec = corrHeatmapChart(one)!.spec;
  const images = nodes(spec).filter((n) => typeof n.url === 'string' && (n.url as string).startsWith('data:image/png;base64,'));
  assert.is(images.length, 3);
  const marks = nodes(spec).filter((n) => n.type === 'image');
  assert.is(marks.length, 3);
  // a real colour legend: a quantitative colour scale over [0, 1]
  const legends = nodes(spec).filter((n) => n.field === 'v' && n.type === 'quantitative');
  assert.ok(legends.length >= 1);
  assert.equal((legends[0].scale as Json).domain, [0, 1]);
});

test('heatmap PNG: indexed colour, full resolution, each pixel the quantized |rho| of its pair', () => {
  const diag = one.diagnostics!.find((d) => d.transform === 'none')!;
  const bytes = decodeRaster(diag.corrAbs!);
  const url = nodes(corrHeatmapChart(one)!.spec).find((n) => typeof n.url === 'string' && (n.url as string).startsWith('data:image/png'))!.url as string;
  const png = decode(Buffer.from(url.slice('data:image/png;base64,'.length), 'base64'));
  assert.is(png.width, 16);
  assert.is(png.height, 16);
  assert.is(png.channels, 1);
  assert.is(png.palette!.length, CORR_SHADES);
  for (let i = 0; i < bytes.length; i++) assert.is(png.data[i], Math.round((bytes[i] / 255) * (CORR_SHADES - 1)));
  // the diagonal (|rho| = 1) has the darkest colour of the scheme
  assert.equal(png.palette![png.data[0]].slice(0, 3), schemePalette('blues', CORR_SHADES)[CORR_SHADES - 1]);
});

test('raster PNG: 256 shades keep the bytes; bad sizes are refused', () => {
  const bytes = Uint8Array.from({ length: 9 }, (_, i) => i * 30);
  const png = decode(Buffer.from(rasterPngUrl(bytes, 3, 'blues').split(',')[1], 'base64'));
  assert.equal(Array.from(png.data), Array.from(bytes));
  assert.throws(() => rasterPngUrl(bytes, 4, 'blues'), /16 bytes/);
  assert.throws(() => rasterPngUrl(bytes, 3, 'blues', 1), /levels/);
  assert.throws(() => decodeRaster({ dims: 4, encoding: 'u8-base64', data: Buffer.alloc(15).toString('base64') }), /16 bytes/);
});

test('rasters above 1024 a side are max-pooled in blocks; smaller ones are drawn as they are', () => {
  const d = 5;
  const bytes = Uint8Array.from({ length: d * d }, (_, i) => i);
  assert.is(maxPoolRaster(bytes, d, 5).bytes, bytes);
  const { bytes: out, side, factor } = maxPoolRaster(bytes, d, 2);
  assert.equal([side, factor], [2, 3]);
  // blocks rows 0-2 x cols 0-2, rows 0-2 x cols 3-4, rows 3-4 x ...
  assert.equal(Array.from(out), [12, 14, 22, 24]);
});

test('a heatmap of d = 1100 is drawn at 550 x 550 pixels, the caption says so', () => {
  const d = 1100;
  const big: Analysis = {
    ...one,
    diagnostics: one.diagnostics!.map((g) => (g.corrAbs ? { ...g, corrAbs: { dims: d, encoding: 'u8-base64' as const, data: Buffer.alloc(d * d, 7).toString('base64') } } : g)),
  };
  const chart = corrHeatmapChart(big)!;
  const url = nodes(chart.spec).find((n) => typeof n.url === 'string' && (n.url as string).startsWith('data:image/png'))!.url as string;
  const png = decode(Buffer.from(url.split(',')[1], 'base64'));
  assert.equal([png.width, png.height], [550, 550]);
  assert.match(chart.caption, /block of 2 x 2 pairs/);
  const x = nodes(chart.spec).find((n) => n.field === 'x0')!;
  assert.equal((x.scale as Json).domain, [0, d]);
});

test('correlation histogram: shares in percent add up to 100 per view, rescaling views not repeated', () => {
  const series = rows(corrHistogramChart(one)!.spec);
  assert.equal(series.map((s) => s.view), ['before', 'whiten', 'ABTT']);
  for (const s of series) {
    const total = (s.share as number[]).reduce((p, q) => p + q, 0);
    assert.ok(Math.abs(total - 100) < 0.05, `${String(s.view)}: ${total}`);
    assert.is((s.rho as number[]).length, 40);
  }
});

test('spectrum: ratios sum to 1, cumulative ends at 1, zero and negative eigenvalues handled', () => {
  const { ratio, cumulative } = explainedVariance([4, 2, 1, 1, -1e-17]);
  assert.equal(ratio, [0.5, 0.25, 0.125, 0.125, 0]);
  assert.equal(cumulative, [0.5, 0.75, 0.875, 1, 1]);
  assert.equal(explainedVariance([0, 0]).ratio, [0, 0]);
  const ref = isotropicCumulative(1000);
  assert.equal(ref[0], { k: 1, cum: 0.001 });
  assert.equal(ref.at(-1), { k: 1000, cum: 1 });
  assert.ok(ref.every((p, i) => i === 0 || p.k > ref[i - 1].k));
  const spec = spectrumChart(one)!.spec as unknown as Json;
  const data = (spec.datasets as Record<string, Json[]>).spectrum_0;
  assert.is(data.length, 6);
  for (const s of data) assert.ok(Math.abs((s.cum as number[]).at(-1)! - 1) < 1e-3);
  const logScales = nodes(spec).filter((n) => n.type === 'log');
  assert.ok(logScales.length >= 1, 'the ratio panel is on a log scale');
  // both panels in one chart, one per input block
  assert.is(((spec.hconcat as Json[]) ?? []).length, 2);
  assert.is(((spectrumChart(two)!.spec as unknown as Json).vconcat as Json[]).length, 2);
});

test('IsoBN factors: a_i against s_i and gamma_i for each IsoBN view, all dimensions', () => {
  const spec = isobnFactorsChart(one)!.spec as unknown as Json;
  const data = (spec.datasets as Record<string, Json[]>).isobn_0;
  assert.equal(data.map((d) => d.view), ['IsoBN', 'IsoBN (running)']);
  const isobn = one.results.find((r) => r.transform === 'isobn')!;
  assert.is((data[0].a as number[]).length, 16);
  assert.ok(Math.abs((data[0].a as number[])[3] - isobn.scale![3]) < 1e-3 * isobn.scale![3]);
  const fields = nodes(spec).filter((n) => n.field === 's' || n.field === 'gamma').map((n) => n.field);
  assert.ok(fields.includes('s') && fields.includes('gamma'));
});

test('PCA scatter: a panel per view with its variance share on the axes, every sampled row drawn', async () => {
  const big = await fixtureAnalysis({ rows: 1300, dims: 8, transforms: 'isobn', sample: 1100 });
  const spec = pcaScatterChart(big)!.spec as unknown as Json;
  const panels = spec.hconcat as Json[];
  assert.is(panels.length, 2);
  for (const p of panels) {
    const values = ((p.data as Json).values as { x: number[] }[])[0];
    assert.is(values.x.length, 1100);
  }
  const titles = nodes(spec).map((n) => n.title).filter((t): t is string => typeof t === 'string' && t.startsWith('PC1'));
  assert.match(titles[0], /^PC1 \(\d+\.\d% of variance\)$/);
});

test.run();
