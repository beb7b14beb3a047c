// The one gate for saved statistics: every field of a shard is checked (schema, finiteness,
// consistency, sources) before a number of it is used (issue 9: merge accepted NaN moments, bad
// base64, count 1e308, zeroRows > count, sources [null] and NUL bytes in names).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StatsAccumulator } from '../../src/stats/accumulator.ts';
import { f64ToBase64 } from '../../src/stats/base64.ts';
import { StatsError } from '../../src/stats/errors.ts';
import { checkStatsJSON, statsDigest } from '../../src/stats/stats-json.ts';
import { anisotropic } from '../helpers/random.ts';

const D = 4, N = 50;
const acc = new StatsAccumulator(D);
acc.push(anisotropic(N, D, 3), N);
acc.sources = [{ path: 'a.npy', rows: N, dtype: '<f4', layer: null, count: N, nonfiniteRows: 0 }];
// The shape of a file from before rogue dimensions (no unitSq): the checks below edit one field at a
// time, and a present unitSq would be checked (and refused) first when a count changes.
const { unitSq: withSq, ...good } = acc.toJSON();

/** `good` with some fields replaced; a float64 array field is given as numbers. */
function edit(fields: Record<string, unknown>): unknown {
  const out: Record<string, unknown> = JSON.parse(JSON.stringify(good));
  for (const [k, v] of Object.entries(fields)) out[k] = Array.isArray(v) && typeof v[0] === 'number' && k !== 'sources' ? f64ToBase64(Float64Array.from(v as number[])) : v;
  return out;
}

function refused(json: unknown, pattern: RegExp): void {
  try {
    checkStatsJSON(json);
    StatsAccumulator.fromJSON(json);
    assert.unreachable(`accepted; expected ${pattern}`);
  } catch (e) {
    if (!(e instanceof StatsError)) throw e;
    assert.match(e.message, pattern);
    assert.ok(e.message.length < 400, 'one short line');
    assert.not.match(e.message, /\n/);
  }
}

test('a good file and an empty accumulator pass and round-trip exactly', () => {
  const back = StatsAccumulator.fromJSON(JSON.parse(JSON.stringify(good)));
  assert.equal(back.toJSON(), good);
  const empty = new StatsAccumulator(3).toJSON();
  assert.equal(StatsAccumulator.fromJSON(JSON.parse(JSON.stringify(empty))).toJSON(), empty);
});

test('NaN or Inf in the moments is refused, naming the field', () => {
  const mean = Array.from(acc.mean);
  refused(edit({ mean: [mean[0], NaN, mean[2], mean[3]] }), /mean holds NaN at index 1/);
  refused(edit({ unitSum: [Infinity, 0, 0, 0] }), /unitSum holds Infinity/);
  const co = new Float64Array((D * (D + 1)) / 2).fill(1);
  co[3] = -Infinity;
  refused(edit({ comoment: Array.from(co) }), /comoment holds -Infinity/);
  refused(edit({ min: [-Infinity, 0, 0, 0] }), /min holds -Infinity/);
});

test('malformed base64 is refused: wrong length, stray characters, not a string', () => {
  refused(edit({ mean: 'AAAA' }), /mean must hold 4 float64 values/);
  const m = good.mean;
  refused(edit({ mean: `${m.slice(0, 10)}!${m.slice(11)}` }), /mean is not valid base64/);
  refused(edit({ mean: `${m.slice(0, 10)} ${m.slice(11)}` }), /mean is not valid base64/);
  refused(edit({ mean: 12 }), /mean must be a base64 string/);
  // a forged size allocates nothing: the string's length is checked first
  refused(edit({ dims: 1e6 }), /mean must hold 1000000 float64 values/);
});

test('counts must be whole numbers below 2^53: count 1e308, 2.5, -1, "3" are refused', () => {
  refused(edit({ count: 1e308 }), /count must be a whole number >= 0, found "1e\+308"/);
  refused(edit({ count: 2.5 }), /count must be a whole number/);
  refused(edit({ nonfiniteRows: -1 }), /nonfiniteRows must be a whole number/);
  refused(edit({ dims: '3' }), /dims must be a whole number/);
  refused(edit({ dims: 0 }), /dims must be a whole number >= 1/);
});

test('zeroRows > count is refused; so are zero rows in a dimension that never takes 0', () => {
  refused(edit({ zeroRows: N + 1 }), /zeroRows must be a whole number from 0 to 50/);
  refused(edit({ zeroRows: 1 }), /all-zero row\(s\) but dimension \d never takes 0/);
});

test('inconsistent moments are refused: mean outside [min, max], impossible co-moments, unit sums too long', () => {
  const min = Array.from(acc.min), max = Array.from(acc.max);
  refused(edit({ mean: [max[0] + 1, ...Array.from(acc.mean).slice(1)] }), /mean of dimension 0 .* outside its \[min, max\]/);
  refused(edit({ min: max, max: min }), /min > max in dimension 0/);
  const packed = new Float64Array((D * (D + 1)) / 2);
  for (let i = 0, k = 0; i < D; i++) for (let j = i; j < D; j++) packed[k++] = acc.comoment[i * D + j];
  const neg = packed.slice(); neg[0] = -1;
  refused(edit({ comoment: Array.from(neg) }), /comoment of dimension 0/);
  const big = packed.slice(); big[1] = 10 * Math.sqrt(packed[0] * packed[D]);
  refused(edit({ comoment: Array.from(big) }), /comoment \(0, 1\) exceeds/);
  refused(edit({ unitSum: [N, N, 0, 0] }), /\|unitSum\| exceeds|unitSum of dimension/);
  refused(edit({ count: 0, zeroRows: 0, nonfiniteRows: 0, sources: [] }), /count is 0 but/);
});

test('sources: [null], NUL bytes and control characters in names, ranges and counts that do not add up', () => {
  refused(edit({ sources: [null] }), /sources\[0\] must be an object, found "null"/);
  refused(edit({ sources: 'a.npy' }), /sources must be a list/);
  refused(edit({ sources: [{ ...good.sources[0], path: 'a\u0000.npy' }] }), /sources\[0\]\.path must be a non-empty name without control characters, found "a\\u0000\.npy"/);
  refused(edit({ sources: [{ ...good.sources[0], path: 'a\n.npy' }] }), /sources\[0\]\.path must be/);
  refused(edit({ sources: [{ ...good.sources[0], path: 'x\u2028y' }] }), /sources\[0\]\.path must be/);
  refused(edit({ sources: [{ ...good.sources[0], dtype: '' }] }), /sources\[0\]\.dtype/);
  refused(edit({ sources: [{ ...good.sources[0], rows: N + 7, count: undefined, nonfiniteRows: undefined }] }), /the sources hold 57 rows but count \+ nonfiniteRows is 50/);
  refused(edit({ sources: [{ ...good.sources[0], range: [10, 5] }] }), /sources\[0\]\.range must satisfy/);
  refused(edit({ sources: [{ ...good.sources[0], part: [4, 4] }] }), /sources\[0\]\.part must be \[i, N\]/);
  refused(edit({ sources: [{ ...good.sources[0], count: 49, nonfiniteRows: 0 }] }), /count \+ nonfiniteRows \(49\) differs from the 50 rows/);
  refused(edit({ sources: [{ ...good.sources[0], id: 'not hex' }] }), /sources\[0\]\.id must be 32 lower-case hex digits/);
});

test('a shard whose statistics do not match its recorded digest is refused', () => {
  const digest = statsDigest(good);
  assert.ok(checkStatsJSON(edit({ sources: [{ ...good.sources[0], stats: digest }] })));
  const other = Array.from(acc.unitSum);
  other[0] *= 0.5;
  refused(edit({ unitSum: other, sources: [{ ...good.sources[0], stats: digest }] }), /do not match the digest/);
});

test('optional per-dimension squared unit sums (rogue dimensions) are checked when present', () => {
  const sq = new Float64Array(D).fill(N / D);
  assert.equal(Array.from(checkStatsJSON(edit({ unitSq: Array.from(sq) })).unitSq!), Array.from(sq));
  assert.is(checkStatsJSON(good).unitSq, null);
  assert.equal(Array.from(checkStatsJSON(acc.toJSON()).unitSq!), Array.from(acc.unitSq!));
  assert.ok(withSq, 'accumulators write unitSq');
  refused(edit({ unitSq: [N, N, 0, 0] }), /unitSq adds up to 100, not to the 50 non-zero rows/);
  refused(edit({ unitSq: [-1, N + 1, 0, 0] }), /unitSq of dimension 0/);
  refused(edit({ unitSq: [NaN, 0, 0, 0] }), /unitSq holds NaN/);
});

test('a foreign schema says what the file should be', () => {
  refused({ schema: 'isotropy.analysis/v1' }, /not an isotropy statistics file \(schema "isotropy.analysis\/v1"\)/);
  refused(null, /not an isotropy statistics file/);
  refused([], /not an isotropy statistics file/);
});

test.run();
