// Rogue dimensions (Timkey & van Schijndel, 2021): each dimension's share of the average cosine,
// from the first pass's sums, against the O(n^2 d) mean over all ordered pairs of rows.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { analyze } from '../../src/analyze/analyze.ts';
import { analyzeShards } from '../../src/analyze/shards.ts';
import { matrixSource } from '../../src/io/index.ts';
import { StatsAccumulator } from '../../src/stats/accumulator.ts';
import { avgCosine } from '../../src/stats/avg-cosine.ts';
import { rogueShares, topRogueDims } from '../../src/stats/rogue-dims.ts';
import { anisotropic, gaussian, maxRelDiff } from '../helpers/random.ts';

/** share_i = mean over ordered pairs k != l of u_ki u_li, zero rows left out: the definition. */
function bruteShares(x: Float64Array, rows: number, d: number): number[] {
  const units: Float64Array[] = [];
  for (let r = 0; r < rows; r++) {
    const row = x.subarray(r * d, (r + 1) * d);
    const norm = Math.sqrt(row.reduce((s, v) => s + v * v, 0));
    if (norm > 0) units.push(row.map((v) => v / norm));
  }
  const n = units.length;
  const out = new Array<number>(d).fill(0);
  for (let k = 0; k < n; k++) for (let l = 0; l < n; l++) {
    if (k === l) continue;
    for (let i = 0; i < d; i++) out[i] += units[k][i] * units[l][i];
  }
  return out.map((s) => s / (n * (n - 1)));
}

/** Rows with a common offset and two rogue dimensions (large, same-signed values), as in BERT. */
function rogueRows(rows: number, d: number, seed: number): Float64Array {
  const g = gaussian(seed);
  const x = Float64Array.from({ length: rows * d }, () => 0.3 * g() + 0.05);
  for (let r = 0; r < rows; r++) { x[r * d + 3] += 4 + 0.2 * g(); x[r * d + 7] -= 2.5 + 0.2 * g(); }
  return x;
}

const N = 53, D = 9;
const X = rogueRows(N, D, 5);

test('shares equal the brute-force mean over all pairs, and sum to avgCosine', () => {
  const acc = new StatsAccumulator(D);
  acc.push(X, N);
  const shares = rogueShares(acc.unitSum, acc.unitSq!, acc.count)!;
  assert.ok(maxRelDiff(shares, bruteShares(X, N, D), 1e-12) < 1e-12);
  const sum = shares.reduce((s, v) => s + v, 0);
  assert.ok(Math.abs(sum - avgCosine(acc.unitSum, acc.count)!) < 1e-14, `${sum}`);
  // the planted rogue dims lead, far above avgCosine / d
  assert.equal(topRogueDims(shares, 2).map((r) => r.dim), [3, 7]);
  assert.ok(shares[3] > 5 * (sum / D));
});

test('zero rows are left out, as in avgCosine; an anisotropic input without rogue dims too', () => {
  const x = anisotropic(40, 6, 3);
  x.fill(0, 6 * 5, 6 * 6); // row 5 is all zero
  const acc = new StatsAccumulator(6);
  acc.push(x, 40);
  assert.is(acc.zeroRows, 1);
  const shares = rogueShares(acc.unitSum, acc.unitSq!, acc.count - acc.zeroRows)!;
  assert.ok(maxRelDiff(shares, bruteShares(x, 40, 6), 1e-12) < 1e-12);
});

test('blocks, merges and the JSON round trip keep the squared sums exactly enough', () => {
  const whole = new StatsAccumulator(D);
  whole.push(X, N);
  const a = new StatsAccumulator(D), b = new StatsAccumulator(D);
  a.push(X.subarray(0, 20 * D), 20);
  b.push(X.subarray(20 * D), N - 20);
  const merged = StatsAccumulator.fromJSON(JSON.parse(JSON.stringify(a.merge(b).toJSON())));
  assert.ok(maxRelDiff(merged.unitSq!, whole.unitSq!) < 1e-13);
});

test('a statistics file without unitSq (older isotropy) loads; merged with it, the squares are unknown', async () => {
  const acc = new StatsAccumulator(D);
  acc.push(X, N);
  const json = acc.toJSON();
  delete json.unitSq;
  const old = StatsAccumulator.fromJSON(JSON.parse(JSON.stringify(json)));
  assert.is(old.unitSq, null);
  assert.ok(maxRelDiff(old.covariance(), acc.covariance()) < 1e-15);
  assert.not.ok('unitSq' in old.toJSON());
  const fresh = new StatsAccumulator(D);
  fresh.push(X, N);
  assert.is(fresh.merge(old).unitSq, null);
  const a = await analyzeShards([old], ['old.stats.json'], { transforms: 'isobn' });
  assert.is(a.results[0].rogueDims, null);
  assert.match(a.results[0].nullReasons!.rogueDims, /older isotropy/);
  assert.is(a.diagnostics![0].rogueShares, undefined);
});

test('fewer than 2 rows: no shares', () => {
  assert.is(rogueShares([1, 0], [1, 0], 1), null);
});

test('analyze: rogueDims (top 10) and the full shares in the diagnostics, the same on worker threads', async () => {
  const d = 14, n = 300;
  const x = rogueRows(n, d, 9);
  const brute = bruteShares(x, n, d);
  for (const threads of [1, 2]) {
    const a = await analyze([matrixSource(x, n, d)], { transforms: 'isobn', backend: 'js', threads, blockRows: 37, onePass: true, sampleRows: 0 });
    const none = a.results[0];
    assert.ok(none.rogueDims && none.rogueDims.length === 10);
    assert.equal(none.rogueDims.slice(0, 2).map((r) => r.dim), [3, 7]);
    for (const { dim, share } of none.rogueDims) assert.ok(Math.abs(share - brute[dim]) < 1e-12 * Math.max(1, Math.abs(brute[dim])));
    const shares = a.diagnostics![0].rogueShares!;
    assert.ok(maxRelDiff(shares, brute, 1e-12) < 1e-12, `threads ${threads}`);
    assert.ok(Math.abs(shares.reduce((s, v) => s + v, 0) - none.avgCosine!) < 1e-13);
    // only the input as read: a transform's own shares would need another pass
    assert.is(a.results[1].rogueDims, undefined);
    assert.is(a.diagnostics![1].rogueShares, undefined);
  }
});

test.run();
