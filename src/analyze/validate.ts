import { quote } from '../io/index.js';
import { TRANSFORM_NAMES } from '../transforms/index.js';
import { ANALYSIS_SCHEMA, type Analysis } from './schema.js';

/** A saved analysis that cannot be used: not ours, damaged, or from an incompatible version. */
export class AnalysisFormatError extends Error {
  override readonly name = 'AnalysisFormatError';
  readonly isUserError = true;
}

/**
 * Checks that a parsed JSON value is an `isotropy.analysis/v1` document whose arrays fit together
 * (what a renderer indexes into), and returns it typed. Values are not recomputed.
 *
 * @param label  names the document in messages, e.g. its file path
 * @throws AnalysisFormatError naming the first problem and what to do
 */
export function checkAnalysis(value: unknown, label: string): Analysis {
  const fail = (what: string): never => {
    throw new AnalysisFormatError(`${label}: ${what}; expected the output of \`isotropy analyze --json\``);
  };
  if (!isObject(value)) return fail('not a JSON object');
  if (value.schema !== ANALYSIS_SCHEMA) {
    return fail(typeof value.schema === 'string' ? `schema ${quote(value.schema)} is not ${ANALYSIS_SCHEMA}` : 'no "schema" field');
  }
  const { inputs, results, diagnostics } = value;
  if (!Array.isArray(inputs) || inputs.length === 0) return fail('"inputs" is missing or empty');
  inputs.forEach((inp, i) => {
    if (!isObject(inp) || typeof inp.path !== 'string' || !isCount(inp.rows) || !isCount(inp.dims) || inp.dims === 0) fail(`inputs[${i}] lacks path, rows or dims`);
    if (inp.label !== undefined && typeof inp.label !== 'string') fail(`inputs[${i}].label is not a string`);
  });
  if (!Array.isArray(results) || results.length === 0) return fail('"results" is missing or empty');
  results.forEach((r, k) => {
    if (!isObject(r) || !isCount(r.input) || r.input >= inputs.length || typeof r.transform !== 'string') fail(`results[${k}] lacks a valid input or transform`);
    if (r.transform !== 'none' && !(TRANSFORM_NAMES as readonly string[]).includes(r.transform)) {
      fail(`results[${k}].transform ${quote(r.transform)} is not a transform this version knows (none, ${TRANSFORM_NAMES.join(', ')})`);
    }
    if (!isObject(r.std) || !isObject(r.corr) || !isObject(r.spectrum) || !isNumbers(r.spectrum.eigenvalues)) fail(`results[${k}] lacks its metrics`);
    const metrics: Array<[string, unknown]> = [
      ['meanNorm', r.meanNorm], ['isoScore', r.isoScore], ['partitionIsotropy', r.partitionIsotropy], ['avgCosine', r.avgCosine],
      ...Object.entries(r.std).map(([key, v]): [string, unknown] => [`std.${key}`, v]),
      ...Object.entries(r.corr).map(([key, v]): [string, unknown] => [`corr.${key}`, v]),
      ...(['top1', 'top10', 'effectiveRank', 'condition'] as const).map((key): [string, unknown] => [`spectrum.${key}`, r.spectrum[key]]),
    ];
    for (const [path, v] of metrics) {
      if (!(v === null || v === undefined || (typeof v === 'number' && Number.isFinite(v)))) fail(`results[${k}].${path} is not a finite number or null`);
    }
    if (r.scale !== undefined && !isNumbers(r.scale)) fail(`results[${k}].scale is not a list of numbers`);
    if (r.nullReasons !== undefined && (!isObject(r.nullReasons) || !Object.values(r.nullReasons).every((x) => typeof x === 'string'))) {
      fail(`results[${k}].nullReasons is not an object of strings`);
    }
  });
  if (diagnostics === undefined) return value as unknown as Analysis;
  if (!Array.isArray(diagnostics) || diagnostics.length !== results.length) return fail('"diagnostics" must hold one entry per result');
  diagnostics.forEach((v, k) => {
    const r = results[k] as Record<string, unknown>;
    const where = `diagnostics[${k}]`;
    if (!isObject(v) || v.input !== r.input || v.transform !== r.transform) fail(`${where} does not match results[${k}]`);
    if (!isNumbers(v.std) || v.std.length === 0) fail(`${where}.std is not a list of numbers`);
    const h = v.corrHistogram;
    if (!isObject(h) || !isNumbers(h.edges) || !isNumbers(h.counts) || h.edges.length !== h.counts.length + 1) fail(`${where}.corrHistogram is malformed`);
    const c = v.corrAbs;
    if (c !== null) {
      if (!isObject(c) || c.encoding !== 'u8-base64' || !isCount(c.dims) || typeof c.data !== 'string') fail(`${where}.corrAbs is malformed`);
      const raster = c as { dims: number; data: string };
      if (Buffer.byteLength(raster.data, 'base64') !== raster.dims * raster.dims) fail(`${where}.corrAbs holds the wrong number of values`);
    }
    const p = v.pca;
    if (p !== null && (!isObject(p) || !isNumbers(p.x) || !isNumbers(p.y) || p.x.length !== p.y.length || !isNumbers(p.variance))) fail(`${where}.pca is malformed`);
  });
  return value as unknown as Analysis;
}

function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= 0;
}

function isNumbers(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x));
}
