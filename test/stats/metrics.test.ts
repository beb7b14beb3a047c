import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isoScore } from '../../src/stats/iso-score.ts';
import { avgCosine } from '../../src/stats/avg-cosine.ts';
import { spectrumSummary } from '../../src/stats/spectrum.ts';
import { stdSummary } from '../../src/stats/std.ts';
import { correlationSummary } from '../../src/stats/correlation.ts';
import { PartitionSums, partitionIsotropy } from '../../src/stats/partition-isotropy.ts';
import { StatsAccumulator } from '../../src/stats/accumulator.ts';
import { momentMetrics, momentNullReasons, momentsOf } from '../../src/stats/moments.ts';
import { anisotropic, gaussian } from '../helpers/random.ts';

test('IsoScore closed form: k equal eigenvalues and d - k zeros give (k - 1)/(d - 1)', () => {
  for (const d of [2, 5, 10, 768]) {
    for (const k of [1, 2, Math.ceil(d / 2), d]) {
      const v = Array.from({ length: d }, (_, i) => (i < k ? 3.7 : 0));
      const want = (k - 1) / (d - 1);
      assert.ok(Math.abs(isoScore(v)! - want) < 1e-12, `d=${d} k=${k}: ${isoScore(v)} vs ${want}`);
    }
  }
});

test('IsoScore does not depend on the scale or order of the eigenvalues', () => {
  const v = [5, 1, 0.5, 0.1];
  assert.ok(Math.abs(isoScore(v)! - isoScore([0.1, 5, 0.5, 1])!) < 1e-14);
  assert.ok(Math.abs(isoScore(v)! - isoScore(v.map((x) => x * 1e6))!) < 1e-14);
});

test('IsoScore of an isotropic Gaussian is close to 1, of points on a line 0', () => {
  const d = 8, n = 20000, g = gaussian(3);
  const acc = new StatsAccumulator(d);
  acc.push(Float64Array.from({ length: n * d }, () => g()), n);
  assert.ok(momentMetrics(momentsOf(acc)).isoScore! > 0.99);
  const line = new StatsAccumulator(4);
  const dir = [1, -2, 0.5, 3];
  for (let i = 0; i < 50; i++) line.push(Float64Array.from(dir, (v) => 7 + v * Math.sin(i)), 1);
  const m = momentMetrics(momentsOf(line));
  assert.ok(Math.abs(m.isoScore!) < 1e-12, String(m.isoScore));
  assert.ok(Math.abs(m.corr.maxAbs! - 1) < 1e-12);
});

test('avgCosine from the unit sum equals the O(n^2) brute force', () => {
  const n = 37, d = 6;
  const x = anisotropic(n, d, 11);
  const acc = new StatsAccumulator(d);
  acc.push(x, n);
  let sum = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    if (i === j) continue;
    let dot = 0, ni = 0, nj = 0;
    for (let c = 0; c < d; c++) { dot += x[i * d + c] * x[j * d + c]; ni += x[i * d + c] ** 2; nj += x[j * d + c] ** 2; }
    sum += dot / Math.sqrt(ni * nj);
  }
  const brute = sum / (n * (n - 1));
  assert.ok(Math.abs(avgCosine(acc.unitSum, acc.count)! - brute) < 1e-12);
});

test('avgCosine: identical directions give 1, opposite pairs -1/(n-1); fewer than 2 rows give null', () => {
  assert.ok(Math.abs(avgCosine([3, 0], 3)! - 1) < 1e-15);
  assert.is(avgCosine([0, 0], 2), -1);
  assert.is(avgCosine([1, 0], 1), null);
});

test('spectrum: shares, effective rank and condition on a known spectrum', () => {
  const s = spectrumSummary(Float64Array.from([4, 2, 1, 1]));
  assert.is(s.top1, 0.5);
  assert.is(s.top10, 1);
  const p = [0.5, 0.25, 0.125, 0.125];
  assert.ok(Math.abs(s.effectiveRank! - Math.exp(-p.reduce((h, q) => h + q * Math.log(q), 0))) < 1e-14);
  assert.is(s.condition, 4);
  assert.is(spectrumSummary(Float64Array.from([1, 1, 0])).condition, null);
  // rounding noise in place of an exact zero is still rank-deficient (numpy's matrix_rank rule)
  assert.is(spectrumSummary(Float64Array.from([3, 1, 2e-16])).condition, null);
  assert.is(spectrumSummary(Float64Array.from([3, 1, 1e-12])).condition, 3e12);
  assert.ok(Math.abs(spectrumSummary(Float64Array.from([2, 2, 2])).effectiveRank! - 3) < 1e-14);
});

test('std summary: population std of the per-dimension stds, cv = std/mean', () => {
  const s = stdSummary(Float64Array.from([1, 3]));
  assert.equal(s, { mean: 2, std: 1, min: 1, max: 3, cv: 0.5 });
  assert.is(stdSummary(Float64Array.from([0, 0])).cv, null);
});

test('correlation summary leaves constant dimensions out', () => {
  // dims 0 and 2 perfectly anti-correlated, dim 1 constant
  const cov = Float64Array.from([1, 0, -2, 0, 0, 0, -2, 0, 4]);
  assert.equal(correlationSummary(cov, 3, Uint8Array.from([0, 1, 0])), { meanAbs: 1, maxAbs: 1 });
  // fewer than two varying dimensions: no pair, so null (0 would read as "uncorrelated")
  assert.equal(correlationSummary(Float64Array.from([1]), 1, Uint8Array.from([0])), { meanAbs: null, maxAbs: null });
  assert.equal(correlationSummary(cov, 3, Uint8Array.from([0, 1, 1])), { meanAbs: null, maxAbs: null });
});

test('partition sums in log space: blocks, overflow and the known value', () => {
  // Two points +-e1 in 1-D: Z(+1) = Z(-1) = e + 1/e -> I = 1.
  const ps = new PartitionSums(1);
  ps.add(Float64Array.from([1]), 1);
  ps.add(Float64Array.from([-1]), 1);
  assert.ok(Math.abs(partitionIsotropy(ps.logZ()) - 1) < 1e-15);
  // Projections of 1000 would overflow exp(); the log form does not.
  const big = new PartitionSums(1);
  big.add(Float64Array.from([1000, 999]), 2);
  const lz = big.logZ();
  assert.ok(Math.abs(lz[0] - (1000 + Math.log(1 + Math.exp(-1)))) < 1e-12);
  assert.ok(Math.abs(lz[1] - (-999 + Math.log(1 + Math.exp(-1)))) < 1e-12);
  assert.is(partitionIsotropy(lz), Math.exp(lz[1] - lz[0]));
});

test('degenerate data: undefined metrics are null with a reason, never NaN and never the isotropic value', () => {
  const same = new StatsAccumulator(3);
  for (let i = 0; i < 5; i++) same.push(Float64Array.from([1, -2, 0.5]), 1);
  const zeros = new StatsAccumulator(3);
  zeros.push(new Float64Array(12), 4);
  for (const acc of [same, zeros]) {
    const m = momentMetrics(momentsOf(acc));
    assert.is(m.std.cv, null);
    assert.equal(m.corr, { meanAbs: null, maxAbs: null });
    assert.is(m.spectrum.top1, null);
    assert.is(m.spectrum.top10, null);
    assert.is(m.spectrum.effectiveRank, null);
    assert.is(m.spectrum.condition, null);
    assert.is(m.isoScore, null);
    assert.equal(m.spectrum.eigenvalues, [0, 0, 0]);
    const why = momentNullReasons(m, 3);
    assert.equal(Object.keys(why).sort(), ['corr.maxAbs', 'corr.meanAbs', 'isoScore', 'spectrum.condition', 'spectrum.effectiveRank', 'spectrum.top1', 'spectrum.top10', 'std.cv']);
    assert.match(why.isoScore, 'no variance');
    assert.match(why['corr.meanAbs'], 'no dimension varies');
    assert.ok(!JSON.stringify(m).includes('NaN'));
  }
  // one varying dimension of three: no correlation pair, but a spectrum and an IsoScore
  const one = new StatsAccumulator(3);
  for (let i = 0; i < 6; i++) one.push(Float64Array.from([i, 2, 2]), 1);
  const m = momentMetrics(momentsOf(one));
  assert.equal(m.corr, { meanAbs: null, maxAbs: null });
  assert.match(momentNullReasons(m, 3)['corr.meanAbs'], 'only 1 dimension varies');
  assert.is(m.spectrum.top1, 1);
  assert.ok(Math.abs(m.isoScore!) < 1e-12);
  // isoScore of a single dimension, or of all-zero eigenvalues: null
  assert.is(isoScore([3]), null);
  assert.is(isoScore([0, 0, 0]), null);
  assert.equal(spectrumSummary(Float64Array.from([0, 0])), { top1: null, top10: null, effectiveRank: null, condition: null, eigenvalues: [0, 0] });
});

test('StatsAccumulator.push takes Float32Array rows too, with the same statistics as float64', () => {
  const x = anisotropic(40, 5, 9);
  const f32 = new Float32Array(x);
  const a = new StatsAccumulator(5);
  a.push(f32, 40);
  const b = new StatsAccumulator(5);
  b.push(Float64Array.from(f32), 40);
  assert.equal(Array.from(a.mean), Array.from(b.mean));
  assert.equal(Array.from(a.covariance()), Array.from(b.covariance()));
});

test.run();
