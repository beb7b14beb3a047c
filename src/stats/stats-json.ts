import { createHash } from 'node:crypto';
import { quote } from '../io/errors.js';
import { StatsError } from './errors.js';
import type { StatsJSON, StatsSource } from './accumulator.js';
import { f64Field, hexField, intField, isRecord, nameField } from './json-fields.js';

/** Version tag of the statistics JSON (`isotropy stats --out`). */
export const STATS_SCHEMA = 'isotropy.stats/v1';

/** The numbers of a checked {@link StatsJSON}, decoded. */
export interface CheckedStats {
  dims: number;
  count: number;
  nonfiniteRows: number;
  zeroRows: number;
  mean: Float64Array;
  /** packed upper triangle, d(d+1)/2 values */
  comoment: Float64Array;
  unitSum: Float64Array;
  /** per-dimension sums of squared unit-row components (rogue dimensions), when the file has them */
  unitSq: Float64Array | null;
  min: Float64Array;
  max: Float64Array;
  sources: StatsSource[];
}

/** Relative slack of the consistency checks: far above rounding, far below any real damage. */
const SLACK = 1e-9;

/**
 * Checks every field of a statistics JSON object and decodes it; the one gate through which saved
 * statistics come back (`StatsAccumulator.fromJSON`, `merge`, plans).
 *
 * - schema: the exact version tag; counts: whole numbers below 2^53, zeroRows <= count;
 * - arrays: exact lengths, strict base64, finite values (an empty accumulator's min/max are
 *   +Inf/-Inf and nothing else);
 * - consistency: min <= mean <= max, a co-moment diagonal >= 0 and within what the range of each
 *   dimension allows, |M_ij| <= sqrt(M_ii M_jj), |unit sums| <= the non-zero rows, zero rows
 *   only where 0 lies in every dimension's range, an empty accumulator all zeros;
 * - sources: names without control characters, row ranges inside their files, and rows that add
 *   up to count + nonfiniteRows; a single shard's recorded digest equals its statistics'.
 *
 * @throws StatsError naming the first field that is wrong
 */
export function checkStatsJSON(json: unknown): CheckedStats {
  if (!isRecord(json) || json.schema !== STATS_SCHEMA) {
    const found = isRecord(json) && 'schema' in json ? ` (schema ${quote(json.schema)})` : '';
    throw new StatsError(`not an isotropy statistics file${found}: expected schema "${STATS_SCHEMA}", made by \`isotropy stats --out\``);
  }
  const o = json;
  const dims = intField(o, 'dims', 1);
  const count = intField(o, 'count');
  const nonfiniteRows = intField(o, 'nonfiniteRows');
  const zeroRows = intField(o, 'zeroRows', 0, count);
  if (!Number.isSafeInteger(count + nonfiniteRows)) throw new StatsError('count + nonfiniteRows is too large');
  const empty = count === 0;
  const mean = f64Field(o, 'mean', dims);
  const unitSum = f64Field(o, 'unitSum', dims);
  const min = f64Field(o, 'min', dims, empty ? '+inf' : 'finite');
  const max = f64Field(o, 'max', dims, empty ? '-inf' : 'finite');
  const comoment = f64Field(o, 'comoment', (dims * (dims + 1)) / 2);
  const unitSq = o.unitSq === undefined ? null : f64Field(o, 'unitSq', dims);
  const fail = (m: string): never => { throw new StatsError(m); };
  if (unitSq) {
    // Each non-zero row adds a unit vector's squares: sum_i u_i^2 = 1 per row.
    const nonzero = count - zeroRows;
    let total = 0;
    unitSq.forEach((v, i) => {
      if (v < 0 || v > nonzero * (1 + SLACK)) fail(`unitSq of dimension ${i} (${v}) is outside [0, ${nonzero}]`);
      total += v;
    });
    if (Math.abs(total - nonzero) > SLACK * Math.max(1, nonzero)) fail(`unitSq adds up to ${total}, not to the ${nonzero} non-zero rows`);
  }

  if (empty) {
    const allZero = (a: Float64Array) => a.every((v) => v === 0);
    if (!allZero(mean) || !allZero(unitSum) || !allZero(comoment)) fail('count is 0 but mean, comoment or unitSum are not 0');
    if (!min.every((v) => v === Infinity) || !max.every((v) => v === -Infinity)) fail('count is 0 but min/max are not +Inf/-Inf');
  } else {
    const nonzero = count - zeroRows;
    let unitSq = 0;
    const diag = new Float64Array(dims);
    for (let i = 0, k = 0; i < dims; k += dims - i, i++) diag[i] = comoment[k];
    for (let i = 0; i < dims; i++) {
      const scale = Math.max(Math.abs(min[i]), Math.abs(max[i]));
      const tol = SLACK * scale;
      if (min[i] > max[i]) fail(`min > max in dimension ${i}`);
      if (mean[i] < min[i] - tol || mean[i] > max[i] + tol) fail(`mean of dimension ${i} (${mean[i]}) lies outside its [min, max]`);
      if (zeroRows > 0 && (min[i] > 0 || max[i] < 0)) fail(`${zeroRows} all-zero row(s) but dimension ${i} never takes 0`);
      const range = max[i] - min[i];
      if (diag[i] < 0 || diag[i] > count * range * range * (1 + SLACK) + tol * tol) {
        fail(`comoment of dimension ${i} (${diag[i]}) is impossible for ${count} rows in [${min[i]}, ${max[i]}]`);
      }
      if (Math.abs(unitSum[i]) > nonzero * (1 + SLACK)) fail(`unitSum of dimension ${i} exceeds the ${nonzero} non-zero rows`);
      unitSq += unitSum[i] * unitSum[i];
    }
    if (unitSq > nonzero * nonzero * (1 + SLACK)) fail(`|unitSum| exceeds the ${nonzero} non-zero rows`);
    for (let i = 0, k = 0; i < dims; i++) {
      for (let j = i; j < dims; j++, k++) {
        if (j > i && Math.abs(comoment[k]) > Math.sqrt(diag[i] * diag[j]) * (1 + SLACK) + Number.MIN_VALUE) {
          fail(`comoment (${i}, ${j}) exceeds sqrt(M_ii M_jj): not a co-moment matrix`);
        }
      }
    }
  }

  const sources = checkSources(o.sources, count, nonfiniteRows);
  const checked: CheckedStats = { dims, count, nonfiniteRows, zeroRows, mean, comoment, unitSum, unitSq, min, max, sources };
  if (sources.length === 1 && sources[0].stats !== undefined && sources[0].stats !== statsDigest(o as unknown as StatsJSON)) {
    fail('the statistics do not match the digest recorded in sources[0].stats: the file was edited or damaged; run isotropy stats again');
  }
  return checked;
}

function checkSources(v: unknown, count: number, nonfinite: number): StatsSource[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new StatsError(`sources must be a list, found ${quote(v)}`);
  const out: StatsSource[] = [];
  let rows = 0, used = 0, dropped = 0, withCounts = 0;
  v.forEach((s: unknown, k: number) => {
    const where = `sources[${k}]`;
    if (!isRecord(s)) throw new StatsError(`${where} must be an object, found ${quote(s)}`);
    const src: StatsSource = { path: nameField(s, 'path', `${where}.path`), rows: intField(s, 'rows', 0, Number.MAX_SAFE_INTEGER, `${where}.rows`) };
    if (s.dtype !== undefined) src.dtype = nameField(s, 'dtype', `${where}.dtype`);
    if (s.layer !== undefined && s.layer !== null) src.layer = intField(s, 'layer', 0, Number.MAX_SAFE_INTEGER, `${where}.layer`);
    else if (s.layer === null) src.layer = null;
    if (s.resolved !== undefined) src.resolved = nameField(s, 'resolved', `${where}.resolved`);
    if (s.fingerprint !== undefined) src.fingerprint = hexField(s, 'fingerprint', 32, `${where}.fingerprint`);
    if (s.range !== undefined) {
      const r = pair(s.range, `${where}.range`);
      if (r[0] > r[1] || r[1] > src.rows) throw new StatsError(`${where}.range must satisfy 0 <= start <= end <= rows (${src.rows}), found ${quote(s.range)}`);
      src.range = r;
    }
    if (s.part !== undefined) {
      const p = pair(s.part, `${where}.part`);
      if (p[1] < 1 || p[0] >= p[1]) throw new StatsError(`${where}.part must be [i, N] with 0 <= i < N, found ${quote(s.part)}`);
      src.part = p;
    }
    const len = src.range ? src.range[1] - src.range[0] : src.rows;
    if (s.count !== undefined || s.nonfiniteRows !== undefined) {
      src.count = intField(s, 'count', 0, Number.MAX_SAFE_INTEGER, `${where}.count`);
      src.nonfiniteRows = intField(s, 'nonfiniteRows', 0, Number.MAX_SAFE_INTEGER, `${where}.nonfiniteRows`);
      if (src.count + src.nonfiniteRows !== len) {
        throw new StatsError(`${where}: count + nonfiniteRows (${src.count + src.nonfiniteRows}) differs from the ${len} rows of its range`);
      }
      used += src.count;
      dropped += src.nonfiniteRows;
      withCounts++;
    }
    if (s.stats !== undefined) src.stats = hexField(s, 'stats', 64, `${where}.stats`);
    if (s.id !== undefined) src.id = hexField(s, 'id', 32, `${where}.id`);
    rows += len;
    out.push(src);
  });
  if (out.length && rows !== count + nonfinite) {
    throw new StatsError(`the sources hold ${rows} rows but count + nonfiniteRows is ${count + nonfinite}`);
  }
  if (withCounts === out.length && out.length && (used !== count || dropped !== nonfinite)) {
    throw new StatsError(`the sources' counts (${used} used, ${dropped} dropped) differ from the totals (${count}, ${nonfinite})`);
  }
  return out;
}

function pair(v: unknown, where: string): [number, number] {
  if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => Number.isSafeInteger(x) && (x as number) >= 0)) {
    throw new StatsError(`${where} must be two whole numbers, found ${quote(v)}`);
  }
  return [v[0] as number, v[1] as number];
}

/**
 * sha256 (hex) of the statistics themselves (dims, counts and the float64 arrays as saved), not
 * of their provenance: two shards with the same digest hold the same rows.
 */
export function statsDigest(j: Pick<StatsJSON, 'dims' | 'count' | 'nonfiniteRows' | 'zeroRows' | 'mean' | 'comoment' | 'unitSum' | 'min' | 'max'>): string {
  const content = [j.dims, j.count, j.nonfiniteRows, j.zeroRows, j.mean, j.comoment, j.unitSum, j.min, j.max];
  return createHash('sha256').update(JSON.stringify(content)).digest('hex');
}

