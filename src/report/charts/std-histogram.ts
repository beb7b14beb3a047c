import type { Analysis } from '../../analyze/schema.js';
import { inputLabels, reportViews, sig } from '../model.js';
import { FULL_WIDTH, colorByView, topLevel, type Chart, type Json } from './common.js';

/** Bins over [0, largest s_i] shared by every panel, so the panels can be compared by eye. */
export const STD_BINS = 40;
/** A dimension "stands out" when its s_i is this many standard deviations above the mean s_i. */
export const STANDOUT_Z = 3;
/** Height of one panel, px. */
const HEIGHT = 64;
/** At most this many labelled dimensions per panel. */
export const STANDOUT_MAX = 5;

/**
 * The dimensions of `std` that stand out (s_i > mean + {@link STANDOUT_Z} sd of the s_i, and at
 * least 1.5 times the median s_i, so that rounding noise among equal stds never counts), largest
 * first, at most {@link STANDOUT_MAX}. None when every s_i is alike.
 */
export function standoutDims(std: readonly number[]): number[] {
  const d = std.length;
  if (d < 3) return [];
  let mean = 0;
  for (const s of std) mean += s / d;
  let ss = 0;
  for (const s of std) ss += (s - mean) ** 2;
  const sd = Math.sqrt(ss / d);
  if (!(sd > 0)) return [];
  const sorted = [...std].sort((p, q) => p - q);
  const median = (sorted[(d - 1) >> 1] + sorted[d >> 1]) / 2;
  return std
    .map((s, i) => ({ s, i }))
    .filter(({ s }) => s > mean + STANDOUT_Z * sd && s >= 1.5 * median)
    .sort((p, q) => q.s - p.s || p.i - q.i)
    .slice(0, STANDOUT_MAX)
    .map(({ i }) => i);
}

/**
 * The paper's Figure 1: histogram of the per-dimension standard deviations s_i, one row per view
 * (before, then each transform) on one shared x axis, one column per input. The dimensions that
 * stand out are marked and labelled in each panel. Null without diagnostics.
 */
export function stdHistogramChart(a: Analysis): Chart | null {
  const views = reportViews(a).filter((v) => v.diag);
  if (!views.length) return null;
  let hi = 0;
  for (const v of views) for (const s of v.diag!.std) if (s > hi) hi = s;
  if (!(hi > 0)) hi = 1;
  const width = hi / STD_BINS;
  const rows: Json[] = [];
  for (const v of views) {
    const std = v.diag!.std;
    const counts = new Array<number>(STD_BINS).fill(0);
    for (const s of std) counts[Math.min(STD_BINS - 1, Math.max(0, Math.floor(s / width)))]++;
    counts.forEach((count, k) => {
      if (count) rows.push({ kind: 'bin', input: v.label, view: v.name, x0: sig(k * width), x1: sig((k + 1) * width), count });
    });
    standoutDims(std).forEach((dim, rank) => {
      // labels near the right edge go to the left of their mark
      rows.push({ kind: 'dim', input: v.label, view: v.name, std: sig(std[dim]), rank, left: std[dim] > 0.75 * hi, text: `dim ${dim}` });
    });
  }
  const inputs = a.inputs.length;
  const x = { field: 'x0', type: 'quantitative', title: 'per-dimension std s_i (units of the embedding)', scale: { domain: [0, sig(hi)], nice: false, zero: true } };
  const names = [...new Set(views.map((v) => v.name))];
  const body: Json = {
    data: { values: rows },
    facet: {
      row: { field: 'view', type: 'nominal', sort: names, title: null, header: { labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top', labelPadding: 2 } },
      ...(inputs > 1 ? { column: { field: 'input', type: 'nominal', sort: inputLabels(a), title: null } } : {}),
    },
    spec: {
      width: Math.round((FULL_WIDTH - 20 * (inputs - 1)) / inputs),
      height: HEIGHT,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'bin'" }],
          mark: { type: 'rect', stroke: 'white', strokeWidth: 0.5 },
          encoding: {
            x,
            x2: { field: 'x1' },
            y: { field: 'count', type: 'quantitative', title: 'dimensions', axis: { tickCount: 3, tickMinStep: 1, format: 'd' } },
            color: colorByView(views),
            tooltip: [
              { field: 'view', title: 'view' },
              { field: 'x0', title: 's_i from', format: '.3g' },
              { field: 'x1', title: 's_i to', format: '.3g' },
              { field: 'count', title: 'dimensions' },
            ],
          },
        },
        // marks in pixels, not counts: a panel without standouts then needs no y extent
        {
          transform: [{ filter: "datum.kind === 'dim'" }],
          mark: { type: 'rule', color: '#222', strokeDash: [2, 2] },
          encoding: { x: { field: 'std', type: 'quantitative' }, y: { value: 0 }, y2: { value: HEIGHT } },
        },
        ...Array.from({ length: 2 * STANDOUT_MAX }, (_, k) => {
          const rank = k >> 1;
          const left = k % 2 === 1;
          return {
            transform: [{ filter: `datum.kind === 'dim' && datum.rank === ${rank} && ${left ? 'datum.left' : '!datum.left'}` }],
            mark: { type: 'text', align: left ? 'right' : 'left', baseline: 'middle', dx: left ? -3 : 3, fontSize: 9, color: '#222' },
            encoding: { x: { field: 'std', type: 'quantitative' }, y: { value: 6 + 10 * rank }, text: { field: 'text' } },
          };
        }),
      ],
    },
    resolve: { scale: { y: 'independent' } },
  };
  return {
    id: 'std-histogram',
    title: 'Distribution of the per-dimension standard deviations',
    caption:
      'Each bar counts the dimensions whose standard deviation s_i falls in its range; all panels share the x axis. '
      + 'An isotropic embedding has all s_i alike: one narrow peak. A long right tail means a few dimensions carry '
      + `much more variance than the rest; the dimensions more than ${STANDOUT_Z} standard deviations above the mean s_i `
      + `are marked (at most ${STANDOUT_MAX} per panel).`,
    spec: topLevel(body),
  };
}
