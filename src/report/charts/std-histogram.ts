import type { Analysis } from '../../analyze/schema.js';
import { facetViews, groupsOf, reportViews, sig, type ReportView } from '../model.js';
import { FULL_WIDTH, colorByView, topLevel, type Chart, type Json } from './common.js';

/** Bins of each panel, equal widths on the log axis. */
export const STD_BINS = 48;
/** A dimension "stands out" when its s_i is this many standard deviations above the mean s_i ... */
export const STANDOUT_Z = 3;
/** ... and at least this many times the median s_i (so that rounding noise among equal stds never counts). */
export const STANDOUT_MEDIAN = 1.5;
/** Height of one panel, px. */
const HEIGHT = 64;
/** At most this many labelled dimensions per panel. */
export const STANDOUT_MAX = 5;
/** Panels whose typical s_i (median) differ by more than this factor get their own x axis. */
export const OWN_DOMAIN_RATIO = 3;

/**
 * The dimensions of `std` that stand out: s_i > mean + {@link STANDOUT_Z} sd of the s_i and
 * s_i >= {@link STANDOUT_MEDIAN} x the median s_i; largest first, at most {@link STANDOUT_MAX}.
 * None when every s_i is alike.
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
  const med = median(std);
  return std
    .map((s, i) => ({ s, i }))
    .filter(({ s }) => s > mean + STANDOUT_Z * sd && s >= STANDOUT_MEDIAN * med)
    .sort((p, q) => q.s - p.s || p.i - q.i)
    .slice(0, STANDOUT_MAX)
    .map(({ i }) => i);
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((p, q) => p - q);
  const d = sorted.length;
  return (sorted[(d - 1) >> 1] + sorted[d >> 1]) / 2;
}

/** The positive range [lo, hi] of the s_i, widened a little (and around a single value) for a log axis. */
export function logDomain(values: readonly number[]): [number, number] {
  let lo = Infinity, hi = 0;
  for (const s of values) if (s > 0) { lo = Math.min(lo, s); hi = Math.max(hi, s); }
  if (!(hi > 0)) return [0.1, 1];
  // at least a quarter of a decade: whitened stds are all 1 up to rounding
  const span = Math.max(Math.log10(hi / lo), 0.25);
  const mid = (Math.log10(hi) + Math.log10(lo)) / 2;
  const half = (span / 2) * 1.04;
  return [sig(10 ** (mid - half), 3), sig(10 ** (mid + half), 3)];
}

/** Counts of `values` (> 0) in {@link STD_BINS} bins of equal width in log10 over `[lo, hi]`. */
export function logBins(values: readonly number[], [lo, hi]: [number, number]): { x0: number; x1: number; count: number }[] {
  const a = Math.log10(lo), w = (Math.log10(hi) - a) / STD_BINS;
  const counts = new Array<number>(STD_BINS).fill(0);
  for (const s of values) if (s > 0) counts[Math.min(STD_BINS - 1, Math.max(0, Math.floor((Math.log10(s) - a) / w)))]++;
  return counts.map((count, k) => ({ x0: sig(10 ** (a + k * w)), x1: sig(10 ** (a + (k + 1) * w)), count }));
}

/**
 * The paper's Figure 1 for every view: histogram of the per-dimension standard deviations s_i on a
 * log axis, so that a bulk around 0.4 and a few dimensions at 4 are both legible; one row per view,
 * one column per input (and layer). The panels share the x axis unless their typical s_i differ by
 * more than {@link OWN_DOMAIN_RATIO} (whitening next to raw vectors), then each has its own. The
 * dimensions that stand out ({@link standoutDims}) are marked and labelled. Null without diagnostics.
 */
export function stdHistogramChart(a: Analysis): Chart | null {
  const { views, note } = facetViews(reportViews(a).filter((v) => v.diag));
  if (!views.length) return null;
  const medians = views.map((v) => median(v.diag!.std.filter((s) => s > 0).concat(v.diag!.std.every((s) => s <= 0) ? [1] : [])));
  const own = Math.max(...medians) / Math.min(...medians) > OWN_DOMAIN_RATIO;
  const shared = logDomain(views.flatMap((v) => v.diag!.std));
  const rows: Json[] = [];
  let constant = 0;
  views.forEach((v: ReportView) => {
    const std = v.diag!.std;
    const domain = own ? logDomain(std) : shared;
    constant = Math.max(constant, std.filter((s) => !(s > 0)).length);
    for (const b of logBins(std, domain)) if (b.count) rows.push({ kind: 'bin', group: v.groupLabel, view: v.name, ...b });
    // the panel's own domain: data at both ends (a scale of independent panels follows its data)
    if (own) for (const x0 of domain) rows.push({ kind: 'edge', group: v.groupLabel, view: v.name, x0 });
    const [lo, hi] = domain.map(Math.log10);
    const marked = standoutDims(std);
    if (marked.length) {
      // one stack of labels beside the marks, away from the rules: left of the leftmost mark when
      // that is right of the middle (the usual tail of large s_i), else right of the rightmost
      const first = Math.min(...marked.map((d) => std[d])), last = Math.max(...marked.map((d) => std[d]));
      const left = (Math.log10(first) - lo) / (hi - lo) > 0.45;
      marked.forEach((dim, rank) => {
        rows.push({ kind: 'dim', group: v.groupLabel, view: v.name, x0: sig(std[dim]), xlab: sig(left ? first : last), ypx: 6 + 10 * rank, left, text: `dim ${dim}` });
      });
    }
  });
  const groups = groupsOf(views);
  const cols = groups.length;
  const x = {
    field: 'x0', type: 'quantitative', title: own ? 's_i (log)' : 'per-dimension std s_i (log scale)',
    scale: { type: 'log', ...(own ? {} : { domain: shared }), nice: false },
    axis: { format: '~g', tickCount: 5, labelOverlap: 'greedy' },
  };
  const names = [...new Set(views.map((v) => v.name))];
  const body: Json = {
    data: { values: rows },
    facet: {
      row: { field: 'view', type: 'nominal', sort: names, title: null, header: { labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top', labelPadding: 2 } },
      ...(cols > 1 ? { column: { field: 'group', type: 'nominal', sort: groups.map((g) => g.label), title: null, header: { labelLimit: Math.round(FULL_WIDTH / cols) } } } : {}),
    },
    spec: {
      width: Math.round((FULL_WIDTH - 20 * (cols - 1)) / cols),
      height: HEIGHT,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'bin'" }],
          mark: { type: 'rect', stroke: 'white', strokeWidth: 0.5 },
          encoding: {
            x,
            x2: { field: 'x1' },
            y: { field: 'count', type: 'quantitative', title: 'dims', axis: { tickCount: 3, tickMinStep: 1, format: 'd' } },
            color: colorByView(views, { legend: null }),
            tooltip: [
              { field: 'group', title: 'input' },
              { field: 'view', title: 'view' },
              { field: 'x0', title: 's_i from', format: '.3g' },
              { field: 'x1', title: 's_i to', format: '.3g' },
              { field: 'count', title: 'dimensions' },
            ],
          },
        },
        ...(own ? [{
          transform: [{ filter: "datum.kind === 'edge'" }],
          mark: { type: 'rule', opacity: 0 },
          encoding: { x: { field: 'x0', type: 'quantitative' } },
        }] : []),
        // marks in pixels, not counts: a panel without standouts then needs no y extent
        {
          transform: [{ filter: "datum.kind === 'dim'" }],
          mark: { type: 'rule', color: '#222', strokeDash: [2, 2] },
          encoding: { x: { field: 'x0', type: 'quantitative' }, y: { value: 0 }, y2: { value: HEIGHT } },
        },
        // labels stacked by rank, in pixels from the top of the panel
        ...[false, true].map((left) => ({
          transform: [{ filter: `datum.kind === 'dim' && ${left ? 'datum.left' : '!datum.left'}` }],
          mark: { type: 'text', align: left ? 'right' : 'left', baseline: 'middle', dx: left ? -4 : 4, fontSize: 9, color: '#222' },
          encoding: { x: { field: 'xlab', type: 'quantitative' }, y: { field: 'ypx', type: 'quantitative', scale: null }, text: { field: 'text' } },
        })),
      ],
    },
    resolve: { scale: { y: 'independent', ...(own ? { x: 'independent' } : {}) }, ...(own ? { axis: { x: 'independent' } } : {}) },
  };
  return {
    id: 'std-histogram',
    title: 'Spread of the per-dimension standard deviations (the paper\'s Figure 1)',
    caption:
      'Each bar counts the dimensions whose standard deviation s_i falls in its range; the s_i axis is logarithmic, so '
      + 'that a bulk of similar dimensions and a few much larger ones are both visible. An isotropic embedding has all s_i '
      + 'alike: one narrow peak. '
      + (own
        ? `The views differ in scale by more than a factor of ${OWN_DOMAIN_RATIO}, so each panel has its own axis. `
        : 'All panels share the s_i axis. ')
      + `Marked: dimensions whose s_i is more than ${STANDOUT_Z} standard deviations above the mean s_i and at least `
      + `${STANDOUT_MEDIAN} times the median s_i (at most ${STANDOUT_MAX} per panel, labelled from the largest down).`
      + (constant ? ` Constant dimensions (s_i = 0, up to ${constant} per panel) cannot be placed on the log axis and are not drawn.` : '')
      + (note ? ` ${note}` : ''),
    spec: topLevel(body),
  };
}
