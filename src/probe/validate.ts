import { ProbeError } from './errors.js';
import { PROBE_ISOTROPY_METRICS, PROBE_SCHEMA, type ProbeResult } from './schema.js';

/**
 * Checks that a parsed JSON value is an `isotropy.probe/v1` document (what `isotropy probe --json`
 * and `--out` write) with every field a reader of it uses, and returns it typed. Numbers are not
 * recomputed; every summary must hold finite numbers, so no NaN is ever shown as a result.
 *
 * @param label  names the document in messages, e.g. its file path
 * @throws ProbeError naming the first problem and what was expected
 */
export function checkProbeResult(value: unknown, label: string): ProbeResult {
  const fail = (what: string): never => {
    throw new ProbeError(`${label}: ${what}; expected the output of \`isotropy probe --json\` (or --out)`);
  };
  if (!isObject(value)) return fail('not a JSON object');
  if (value.schema !== PROBE_SCHEMA) {
    return fail(typeof value.schema === 'string' ? `schema ${JSON.stringify(value.schema.slice(0, 60))} is not ${PROBE_SCHEMA}` : 'no "schema" field');
  }
  const { input, labels, params, arms } = value;
  if (!isObject(input) || typeof input.path !== 'string' || !isCount(input.rows) || !isCount(input.dims)) fail('"input" lacks path, rows or dims');
  for (const k of ['layer', 'droppedRows', 'unlabelledRows'] as const) if (input[k] !== undefined && !isCount(input[k])) fail(`"input.${k}" is not a whole number`);
  if (!isObject(labels) || typeof labels.path !== 'string' || !Array.isArray(labels.classes) || labels.classes.length === 0) fail('"labels" lacks path or classes');
  labels.classes.forEach((c: unknown, i: number) => {
    if (!isObject(c) || typeof c.name !== 'string' || !isCount(c.count)) fail(`labels.classes[${i}] lacks name or count`);
  });
  if (labels.threshold !== undefined && !isFinite(labels.threshold)) fail('"labels.threshold" is not a number');
  if (labels.joinedOn !== undefined && typeof labels.joinedOn !== 'string') fail('"labels.joinedOn" is not a string');
  if (!isFinite(value.majority) || value.majority < 0 || value.majority > 1) fail('"majority" is not a share from 0 to 1');
  if (!isObject(params)) return fail('no "params"');
  for (const k of ['folds', 'seeds', 'seed', 'epochs', 'batchSize', 'hidden'] as const) if (!isCount(params[k])) fail(`"params.${k}" is not a whole number`);
  if (!isFinite(params.learningRate)) fail('"params.learningRate" is not a number');
  if (!Array.isArray(params.models) || !params.models.every(isModel)) fail('"params.models" must list linear and/or mlp');
  if (typeof params.backend !== 'string') fail('"params.backend" is not a string');
  const iso = params.isobn;
  if (iso !== null && (!isObject(iso) || !isFinite(iso.momentum) || !isFinite(iso.eps) || !isFinite(iso.beta))) fail('"params.isobn" must be null or {momentum, eps, beta}');
  if (!Array.isArray(arms) || arms.length === 0) return fail('"arms" is missing or empty');
  arms.forEach((a, i) => {
    const where = `arms[${i}]`;
    if (!isObject(a) || !isModel(a.model) || typeof a.isobn !== 'boolean') fail(`${where} lacks model or isobn`);
    if (!isSummary(a.accuracy) || !isSummary(a.epochsToFinal)) fail(`${where} lacks accuracy or epochsToFinal as {mean, std}`);
    const v = a.vsPlain;
    if (v !== undefined && (!isSummary(v) || !isCount(v.better) || !isCount(v.worse) || !isCount(v.same))) fail(`${where}.vsPlain is malformed`);
    if (!Array.isArray(a.curve) || !a.curve.every(isFinite) || !Array.isArray(a.runs)) fail(`${where} lacks curve or runs`);
    if (a.isotropy !== null) {
      if (!isObject(a.isotropy)) fail(`${where}.isotropy must be null or an object`);
      for (const m of PROBE_ISOTROPY_METRICS) {
        const s = a.isotropy[m];
        if (s !== null && !isSummary(s)) fail(`${where}.isotropy[${JSON.stringify(m)}] must be null or {mean, std}`);
      }
    }
  });
  return value as unknown as ProbeResult;
}

function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

function isFinite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function isModel(v: unknown): boolean {
  return v === 'linear' || v === 'mlp';
}

function isSummary(v: unknown): boolean {
  return isObject(v) && isFinite(v.mean) && isFinite(v.std) && v.std >= 0;
}
