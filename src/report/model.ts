import type { Analysis, TransformResult, UnitRaster, ViewDiagnostics } from '../analyze/schema.js';
import { VIEW_ORDER, VIEW_STYLE, seriesColor, seriesDash, type ViewKind } from './palette.js';

/** One result of an analysis, with what the charts need to draw it. */
export interface ReportView {
  /** index in `analysis.results` */
  index: number;
  input: number;
  /** the result's layer, for analyses of several layers of one file (`--layers`) */
  layer?: number;
  /** the input's label, unique within the report */
  label: string;
  /** index of the view's group, an (input, layer) pair, in report order */
  group: number;
  /** the group's name: the input's label, with ", layer k" when the analysis has layers */
  groupLabel: string;
  kind: ViewKind;
  /** display name of the view ("before", "IsoBN", ...) */
  name: string;
  /** the view's own colour ("before" grey, IsoBN red, ...), the same in every group */
  color: string;
  /**
   * the view's name in charts that overlay every group on one axis: the view's name alone when
   * the report has one group, else "<group> · <view>"; unique within the report
   */
  series: string;
  /** colour of {@link series}: the view's hue, darker or lighter per group */
  seriesColor: string;
  /** stroke dash of {@link series}: one pattern per input (solid for the first) */
  dash: number[];
  result: TransformResult;
  /** the view's diagnostics; undefined when the analysis carries none */
  diag?: ViewDiagnostics;
}

/**
 * The labels the report shows for its inputs: `label`, else the file name; repeats get " (2)",
 * " (3)", ... so that facets and legends keep them apart.
 */
export function inputLabels(a: Analysis): string[] {
  const seen = new Map<string, number>();
  return a.inputs.map((inp) => {
    const base = inp.label ?? (inp.path.split(/[\\/]/).pop() || inp.path);
    const k = (seen.get(base) ?? 0) + 1;
    seen.set(base, k);
    return k === 1 ? base : `${base} (${k})`;
  });
}

/** True when some result carries a layer (an analysis of several layers of one file). */
export function hasLayers(a: Analysis): boolean {
  return a.results.some((r) => typeof r.layer === 'number');
}

const layerOf = (x: { layer?: number }) => (typeof x.layer === 'number' ? x.layer : -1);

/**
 * Every result as a {@link ReportView}, grouped by input, then layer, and in {@link VIEW_ORDER}
 * within a group. Diagnostics are matched to results by input, layer and transform, not by
 * position alone.
 */
export function reportViews(a: Analysis): ReportView[] {
  const labels = inputLabels(a);
  const layered = hasLayers(a);
  const matches = (d: ViewDiagnostics | undefined, r: TransformResult) =>
    d !== undefined && d.input === r.input && d.transform === r.transform && layerOf(d) === layerOf(r);
  const sorted = a.results
    .map((result, index) => ({ result, index }))
    .sort((p, q) => p.result.input - q.result.input || layerOf(p.result) - layerOf(q.result)
      || VIEW_ORDER.indexOf(p.result.transform) - VIEW_ORDER.indexOf(q.result.transform) || p.index - q.index);
  const groupKeys = [...new Set(sorted.map(({ result }) => `${result.input}/${layerOf(result)}`))];
  const inputsSeen = [...new Set(sorted.map(({ result }) => result.input))];
  const single = groupKeys.length === 1;
  return sorted.map(({ result, index }): ReportView => {
    const kind = result.transform;
    const diag = matches(a.diagnostics?.[index], result) ? a.diagnostics![index] : a.diagnostics?.find((d) => matches(d, result));
    const label = labels[result.input] ?? `input ${result.input}`;
    const group = groupKeys.indexOf(`${result.input}/${layerOf(result)}`);
    const layer = typeof result.layer === 'number' ? result.layer : undefined;
    const groupLabel = layered && layer !== undefined ? (a.inputs.length > 1 ? `${label}, layer ${layer}` : `layer ${layer}`) : label;
    const style = VIEW_STYLE[kind];
    return {
      index, input: result.input, ...(layer !== undefined ? { layer } : {}), label, group, groupLabel, kind, ...style,
      series: single ? style.name : `${groupLabel} · ${style.name}`,
      seriesColor: seriesColor(kind, group, groupKeys.length),
      dash: seriesDash(inputsSeen.indexOf(result.input)),
      result, diag,
    };
  });
}

/** The views of one input, "before" first (every layer of it, in order). */
export function viewsOf(views: readonly ReportView[], input: number): ReportView[] {
  return views.filter((v) => v.input === input);
}

/** The views of one group (input and layer). */
export function viewsOfGroup(views: readonly ReportView[], group: number): ReportView[] {
  return views.filter((v) => v.group === group);
}

/** The groups present, in order, with their labels. */
export function groupsOf(views: readonly ReportView[]): { group: number; input: number; layer?: number; label: string }[] {
  const out = new Map<number, { group: number; input: number; layer?: number; label: string }>();
  for (const v of views) if (!out.has(v.group)) out.set(v.group, { group: v.group, input: v.input, ...(v.layer !== undefined ? { layer: v.layer } : {}), label: v.groupLabel });
  return [...out.values()];
}

/** Colour scale for the views present, in the report's fixed order and colours. */
export function viewColorScale(views: readonly ReportView[]): { domain: string[]; range: string[] } {
  const kinds = VIEW_ORDER.filter((k) => views.some((v) => v.kind === k));
  return { domain: kinds.map((k) => VIEW_STYLE[k].name), range: kinds.map((k) => VIEW_STYLE[k].color) };
}

/** Colour and dash scales of the series present, in report order (group by group). */
export function seriesScales(views: readonly ReportView[]): { domain: string[]; colors: string[]; dashes: number[][] } {
  const seen = new Set<string>();
  const picked = views.filter((v) => (seen.has(v.series) ? false : (seen.add(v.series), true)));
  return { domain: picked.map((v) => v.series), colors: picked.map((v) => v.seriesColor), dashes: picked.map((v) => v.dash) };
}

/** Decodes a {@link UnitRaster} to its `dims x dims` bytes (row-major). */
export function decodeRaster(r: UnitRaster): Uint8Array {
  if (r.encoding !== 'u8-base64') throw new RangeError(`correlation raster: unknown encoding "${String(r.encoding)}"`);
  const bytes = Buffer.from(r.data, 'base64');
  if (bytes.length !== r.dims * r.dims) {
    throw new RangeError(`correlation raster: expected ${r.dims} x ${r.dims} = ${r.dims * r.dims} bytes, found ${bytes.length}`);
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** `v` to `digits` significant digits, as a number: keeps inlined chart data short. */
export function sig(v: number, digits = 4): number {
  return Number.isFinite(v) && v !== 0 ? Number(v.toPrecision(digits)) : v;
}

/** Most (input, layer) groups a chart of small multiples draws: a page of 13 layers x 3 inputs would not print. */
export const MAX_FACET_GROUPS = 6;

/**
 * The views to draw in a chart of small multiples (heatmaps, histograms, scatters): all of them
 * when there are at most {@link MAX_FACET_GROUPS} groups, else, for each input, evenly spaced
 * layers (the first and the last included) up to that many groups in all. `note` says which
 * layers were drawn (plain text), or is "" when all were.
 */
export function facetViews(views: readonly ReportView[], max = MAX_FACET_GROUPS): { views: ReportView[]; note: string } {
  const groups = groupsOf(views);
  if (groups.length <= max) return { views: [...views], note: '' };
  const inputs = [...new Set(groups.map((g) => g.input))];
  const per = Math.max(1, Math.floor(max / inputs.length));
  const keep = new Set<number>();
  for (const input of inputs) {
    const mine = groups.filter((g) => g.input === input);
    if (mine.length <= per) { mine.forEach((g) => keep.add(g.group)); continue; }
    for (let k = 0; k < per; k++) keep.add(mine[per === 1 ? mine.length - 1 : Math.round((k * (mine.length - 1)) / (per - 1))].group);
  }
  const drawn = groups.filter((g) => keep.has(g.group));
  const layers = drawn.map((g) => g.layer).filter((l): l is number => l !== undefined);
  return {
    views: views.filter((v) => keep.has(v.group)),
    note: `Drawn for ${layers.length ? `layers ${[...new Set(layers)].join(', ')}` : `${drawn.length} of ${groups.length} groups`} only; the charts across layers show every layer.`,
  };
}
