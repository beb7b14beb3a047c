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
import { linearThin, logThin } from '../../src/report/charts/common.ts';
import { cumulativeVarianceChart } from '../../src/report/charts/cumulative-variance.ts';
import { explainedVariance, isotropicCumulative, spectrumChart } from '../../src/report/charts/spectrum.ts';
import { STANDOUT_MEDIAN, STANDOUT_Z, STD_BINS, logBins, logDomain, standoutDims, stdHistogramChart } from '../../src/report/charts/std-histogram.ts';
import { stdRanks, stdSortedChart } from '../../src/report/charts/std-sorted.ts';
import { layerMetricsChart } from '../../src/report/charts/layer-metrics.ts';
import { metricsGlanceChart } from '../../src/report/charts/metrics-glance.ts';
import { rogueDimsChart } from '../../src/report/charts/rogue-dims.ts';
import { HEADLINE_METRICS } from '../../src/report/metrics.ts';
import { decodeRaster, facetViews, inputLabels, reportViews, sig } from '../../src/report/model.ts';
import { VIEW_ORDER, VIEW_STYLE } from '../../src/report/palette.ts';
import { maxPoolRaster, rasterPngUrl, schemePalette } from '../../src/report/raster-png.ts';
import { toVega } from '../../src/report/render.ts';
import { CHART_BUILDERS, fixtureAnalysis, layeredAnalysis } from './fixture.ts';

const one = await fixtureAnalysis({ rows: 90, dims: 16 });
const two = await fixtureAnalysis({ rows: 90, dims: 16, labels: ['BERT', 'BERT'], transforms: 'isobn,whiten' });
const threeInputs = await fixtureAnalysis({ rows: 90, dims: 16, labels: ['BERT', 'RoBERTa', 'GPT-2'], transforms: 'isobn,whiten,abtt', rogue: [2, 3, 0], sample: 60 });

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

test('charts that need diagnostics are null without them; the glance and spectrum charts need only the results', () => {
  const bare: Analysis = { ...one, diagnostics: undefined };
  for (const [id, build] of BUILDERS) {
    if (['metrics-glance', 'spectrum', 'cumulative-variance'].includes(id)) assert.ok(build(bare), id);
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

test('std histogram (Figure 1): log bins, counts add up to d per view, rows per view and columns per input', () => {
  const spec = stdHistogramChart(two)!.spec as unknown as Json;
  const bins = rows(spec).filter((r) => r.kind === 'bin');
  const views = reportViews(two);
  for (const v of views) {
    const mine = bins.filter((b) => b.view === v.name && b.group === v.groupLabel);
    assert.is(mine.reduce((s, b) => s + (b.count as number), 0), v.diag!.std.filter((x) => x > 0).length, `${v.label} ${v.name}`);
  }
  // equal widths on the log axis
  const ratios = bins.filter((b) => b.group === 'BERT' && b.view === 'before').map((b) => (b.x1 as number) / (b.x0 as number));
  assert.ok(ratios.every((r) => Math.abs(r - ratios[0]) < 1e-3 * r));
  assert.ok(nodes(spec).some((n) => n.type === 'log'), 'log x axis');
  const facet = spec.facet as Json;
  assert.is((facet.row as Json).field, 'view');
  assert.is((facet.column as Json).field, 'group');
  assert.not.ok((stdHistogramChart(one)!.spec as unknown as Json & { facet: Json }).facet.column);
});

test('std histogram: whitening next to raw vectors (typical s_i 3x apart) gives each panel its own axis; alike views share one', () => {
  const raw = Array.from({ length: 40 }, (_, i) => 0.4 + 0.01 * (i % 5));
  raw[3] = 3.8;
  const make = (scale: number): Analysis => ({
    ...one,
    results: one.results.slice(0, 2),
    diagnostics: [{ ...one.diagnostics![0], std: raw }, { ...one.diagnostics![1], std: raw.map((x) => x * scale) }],
  });
  const apart = stdHistogramChart(make(4))!;
  assert.equal(((apart.spec as unknown as Json).resolve as Json).scale, { y: 'independent', x: 'independent' });
  assert.match(apart.caption, /each panel has its own axis/);
  const alike = stdHistogramChart(make(1.5))!;
  assert.equal(((alike.spec as unknown as Json).resolve as Json).scale, { y: 'independent' });
  assert.match(alike.caption, /share the s_i axis/);
  // the bulk spreads over several bins although one dimension is ten times larger
  const bins = rows(alike.spec).filter((r) => r.kind === 'bin' && r.view === 'before');
  assert.ok(bins.length >= 4, `${bins.length} bins`);
  // the caption states the rule the code applies
  assert.match(alike.caption, new RegExp(`more than ${STANDOUT_Z} standard deviations above the mean s_i and at least ${STANDOUT_MEDIAN} times the median`));
  assert.equal(rows(alike.spec).filter((r) => r.kind === 'dim').map((r) => r.text), ['dim 3', 'dim 3']);
});

test('log bins: counts of the positive values, domain widened around a single value', () => {
  const b = logBins([1, 2, 4, 8, 0], [1, 8]);
  assert.is(b.length, STD_BINS);
  assert.is(b.reduce((s, x) => s + x.count, 0), 4);
  const [lo, hi] = logDomain([1, 1, 1]);
  assert.ok(lo < 1 && hi > 1 && Math.log10(hi / lo) >= 0.25);
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

test('sorted stds: one line per input and view, each sorted by its own stds, thinned at large d', () => {
  assert.equal(stdRanks([0.5, 3, 1, 3]), [4, 1, 3, 2]);
  const series = rows(stdSortedChart(two)!.spec);
  assert.equal(series.map((r) => r.series), reportViews(two).map((v) => v.series));
  for (const r of series) {
    const s = r.std as number[];
    assert.ok(s.every((x, k) => k === 0 || x <= s[k - 1] * (1 + 1e-9)), String(r.series));
    assert.is((r.rank as number[])[0], 1);
  }
  assert.equal(linearThin(100, 560), Array.from({ length: 100 }, (_, i) => i));
  const thin = linearThin(3000, 560);
  assert.ok(thin.length < 900 && thin[0] === 0 && thin.at(-1) === 2999);
  const log = logThin(768);
  assert.ok(log.length < 200 && log.slice(0, 40).every((k, i) => k === i) && log.at(-1) === 767);
});

test('series: a colour per (input, view), the view\'s hue darker or lighter per input, a dash per input; one legend', () => {
  const three = reportViews(threeInputs);
  assert.is(new Set(three.map((v) => v.series)).size, three.length);
  assert.is(new Set(three.map((v) => v.seriesColor)).size, three.length);
  assert.equal(three.filter((v) => v.kind === 'none').map((v) => v.dash), [[], [6, 3], [1.5, 2.5]]);
  assert.equal(reportViews(one).map((v) => v.series), reportViews(one).map((v) => v.name));
  assert.equal(reportViews(one).map((v) => v.seriesColor), reportViews(one).map((v) => VIEW_STYLE[v.kind].color));
  const spec = spectrumChart(threeInputs)!.spec;
  const color = nodes(spec).find((n) => n.field === 'series' && (n.scale as Json)?.range && typeof ((n.scale as Json).range as unknown[])[0] === 'string')!;
  assert.equal((color.scale as Json).domain, three.map((v) => v.series));
  const dash = nodes(spec).find((n) => n.field === 'series' && Array.isArray(((n.scale as Json)?.range as unknown[])?.[0]))!;
  assert.equal(dash.legend, color.legend, 'the same legend, so Vega-Lite merges the two');
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
  assert.equal(series.map((s) => s.series), ['before', 'whiten', 'ABTT']);
  assert.equal(rows(corrHistogramChart(threeInputs)!.spec).map((s) => s.series), reportViews(threeInputs).filter((v) => v.kind !== 'isobn').map((v) => v.series));
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
  const data = (spec.datasets as Record<string, Json[]>).spectrum;
  assert.is(data.length, 6);
  for (const s of data) assert.ok(Math.abs((s.cum as number[]).at(-1)! - 1) < 1e-3);
  const logScales = nodes(spec).filter((n) => n.type === 'log');
  assert.ok(logScales.length >= 1, 'the ratio panel is on a log scale');
  // every input and view on one axis: one dataset, one line per series
  const three = (spectrumChart(threeInputs)!.spec as unknown as Json).datasets as Record<string, Json[]>;
  assert.is(three.spectrum.length, 12);
  assert.ok(cumulativeVarianceChart(threeInputs));
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
  assert.match(titles[0], /^PC1 \(\d+\.\d%\)$/);
});


test('metrics at a glance: a panel per headline metric, a dot per view and input, the isotropic value per input, n/a with its reason', async () => {
  const spec = metricsGlanceChart(threeInputs)!.spec as unknown as Json;
  const panels = ((spec.vconcat as Json[]).flatMap((r) => r.hconcat as Json[]));
  assert.equal(panels.map((p) => (p.title as Json).text), HEADLINE_METRICS.map((m) => `${m.short}${m.log ? ' (log)' : ''}`));
  const isoscore = (panels[0].layer as Json[]);
  assert.equal(((isoscore[0].data as Json).values as Json[]).map((r) => r.value), [1, 1, 1]);
  assert.is(((isoscore[1].data as Json).values as Json[]).length, 12);
  // I(W) and the condition number on log axes
  for (const m of HEADLINE_METRICS) {
    const k = HEADLINE_METRICS.indexOf(m);
    const x = ((panels[k].layer as Json[])[0].encoding as Json).x as Json;
    assert.is((x.scale as Json).type === 'log', m.log, m.key);
  }
  // a one-pass analysis: I(W) is n/a for every view, with the reason
  const onePass = await fixtureAnalysis({ rows: 60, dims: 8, transforms: 'isobn', secondPass: false, sample: 0 });
  const iw = ((metricsGlanceChart(onePass)!.spec as unknown as Json).vconcat as Json[])[0].hconcat as Json[];
  const missing = (iw[1].layer as Json[])[2];
  assert.equal(((missing.data as Json).values as Json[]).map((r) => r.view), ['before', 'IsoBN']);
  assert.match(String(((missing.data as Json).values as Json[])[0].why), /second pass/);
});

test('rogue dimensions: the 10 largest shares of the input as read, in % of the average cosine, one panel per input', () => {
  const chart = rogueDimsChart(threeInputs)!;
  const panels = ((chart.spec as unknown as Json).hconcat as Json[]);
  assert.is(panels.length, 3);
  reportViews(threeInputs).filter((v) => v.kind === 'none').forEach((v, p) => {
    const bars = (((panels[p].layer as Json[])[0].data as Json).values as Json[]);
    const shares = v.diag!.rogueShares!;
    const want = [...shares].sort((x, y) => y - x).slice(0, 10);
    assert.equal(bars.map((b) => b.share), want.map((x) => sig(x)));
    assert.ok(Math.abs((bars[0].pct as number) - (100 * want[0]) / v.result.avgCosine!) < 1e-2 * Math.abs(bars[0].pct as number));
  });
  // the planted rogue dims of BERT lead its panel
  assert.equal(threeInputs.results[0].rogueDims!.slice(0, 2).map((r) => `dim ${r.dim}`), ((((panels[0].layer as Json[])[0].data as Json).values as Json[]).slice(0, 2).map((b) => b.dim)));
  assert.is(rogueDimsChart({ ...threeInputs, diagnostics: threeInputs.diagnostics!.map((d) => ({ ...d, rogueShares: undefined })) }), null);
});

test('layers: every headline metric against layer depth, a line per input and view; null without layers', async () => {
  assert.is(layerMetricsChart(one), null);
  const layered = await layeredAnalysis({ rows: 60, dims: 8, layers: 4, labels: ['BERT', 'RoBERTa'], transforms: 'isobn', sample: 20 });
  const chart = layerMetricsChart(layered)!;
  const panels = ((chart.spec as unknown as Json).vconcat as Json[]).flatMap((r) => r.hconcat as Json[]);
  assert.is(panels.length, HEADLINE_METRICS.length);
  const points = (((panels[0].layer as Json[])[1].data as Json).values as Json[]);
  assert.is(points.length, 2 * 4 * 2);
  assert.equal([...new Set(points.map((p) => p.layer))], [0, 1, 2, 3]);
  const isoScore = points.find((p) => p.input === 'RoBERTa' && p.view === 'IsoBN' && p.layer === 2)!.value;
  const r = layered.results.find((x) => x.input === 1 && x.layer === 2 && x.transform === 'isobn')!;
  assert.is(isoScore, sig(r.isoScore));
  // series and groups keep layers apart; small multiples draw at most 6 groups
  const views = reportViews(layered);
  assert.is(new Set(views.map((v) => v.series)).size, views.length);
  assert.match(views.find((v) => v.input === 1 && v.layer === 3)!.series, /^RoBERTa, layer 3 · /);
  const many = await layeredAnalysis({ rows: 40, dims: 6, layers: 13, transforms: 'isobn', sample: 0 });
  const { views: drawn, note } = facetViews(reportViews(many));
  assert.equal([...new Set(drawn.map((v) => v.layer))], [0, 2, 5, 7, 10, 12]);
  assert.match(note, /layers 0, 2, 5, 7, 10, 12 only/);
  assert.match(stdHistogramChart(many)!.caption, /layers 0, 2, 5, 7, 10, 12 only/);
});

test.run();
