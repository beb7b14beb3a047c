import type { Analysis, TransformResult, UnitRaster, ViewDiagnostics } from '../analyze/schema.js';
import { VIEW_ORDER, VIEW_STYLE, type ViewKind } from './palette.js';

/** One result of an analysis, with what the charts need to draw it. */
export interface ReportView {
  /** index in `analysis.results` */
  index: number;
  input: number;
  /** the input's label, unique within the report */
  label: string;
  kind: ViewKind;
  /** display name of the view ("before", "IsoBN", ...) */
  name: string;
  color: string;
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

/**
 * Every result as a {@link ReportView}, grouped by input and in {@link VIEW_ORDER} within one.
 * Diagnostics are matched to results by input and transform, not by position alone.
 */
export function reportViews(a: Analysis): ReportView[] {
  const labels = inputLabels(a);
  const views = a.results.map((result, index): ReportView => {
    const kind = result.transform;
    const diag = a.diagnostics?.[index]?.input === result.input && a.diagnostics[index].transform === kind
      ? a.diagnostics[index]
      : a.diagnostics?.find((d) => d.input === result.input && d.transform === kind);
    return { index, input: result.input, label: labels[result.input] ?? `input ${result.input}`, kind, ...VIEW_STYLE[kind], result, diag };
  });
  return views.sort((p, q) => p.input - q.input || VIEW_ORDER.indexOf(p.kind) - VIEW_ORDER.indexOf(q.kind));
}

/** The views of one input, "before" first. */
export function viewsOf(views: readonly ReportView[], input: number): ReportView[] {
  return views.filter((v) => v.input === input);
}

/** Colour scale for the views present, in the report's fixed order and colours. */
export function viewColorScale(views: readonly ReportView[]): { domain: string[]; range: string[] } {
  const kinds = VIEW_ORDER.filter((k) => views.some((v) => v.kind === k));
  return { domain: kinds.map((k) => VIEW_STYLE[k].name), range: kinds.map((k) => VIEW_STYLE[k].color) };
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
