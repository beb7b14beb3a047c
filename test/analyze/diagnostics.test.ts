// The report's arrays: against numpy (fixtures/make_golden_diagnostics.py) and on known answers.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { analyze } from '../../src/analyze/analyze.ts';
import { absRaster, corrHistogram, CORR_BINS, pcaScatter } from '../../src/analyze/diagnostics.ts';
import { readRows, sampleIndices } from '../../src/analyze/sample.ts';
import type { ViewDiagnostics } from '../../src/analyze/schema.ts';
import { analyzeShards } from '../../src/analyze/shards.ts';
import { matrixSource } from '../../src/io/memory-source.ts';
import { StatsAccumulator } from '../../src/stats/accumulator.ts';
import { momentsOf } from '../../src/stats/moments.ts';
import { anisotropic, gaussian } from '../helpers/random.ts';

const dir = new URL('../../fixtures/golden/', import.meta.url);
const golden = JSON.parse(readFileSync(new URL('diagnostics.json', dir), 'utf8'));

function close(got: readonly number[], want: readonly number[], rel: number, what: string): void {
  assert.is(got.length, want.length, `${what}: length`);
  const scale = Math.max(...want.map(Math.abs), 1e-300);
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(got[i] - want[i]) <= rel * scale, `${what}[${i}]: got ${got[i]}, numpy ${want[i]}`);
  }
}

async function rejects(f: () => Promise<unknown>, re: RegExp): Promise<void> {
  try {
    await f();
  } catch (e) {
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable('expected a rejection');
}

for (const c of golden.cases) {
  test(`diagnostics: ${c.file} matches numpy before and after IsoBN`, async () => {
    const a = await analyze([new URL(c.file, dir).pathname], { transforms: 'isobn', onePass: true, sampleRows: 5000 });
    assert.is(a.samples![0].rows, c.rows, 'a sample larger than the input takes every row');
    for (const [k, t] of (['none', 'isobn'] as const).entries()) {
      const got = a.diagnostics![k];
      const want = c[t];
      assert.is(got.transform, t);
      close(got.std, want.std, 1e-12, `${t} std`);
      assert.equal(got.corrHistogram.counts, want.corrHistogram, `${t} histogram`);
      const raster = got.corrAbs ?? a.diagnostics![0].corrAbs!;
      const bytes = Buffer.from(raster.data, 'base64');
      let worst = 0;
      want.corrAbsBytes.forEach((b: number, i: number) => { worst = Math.max(worst, Math.abs(bytes[i] - b)); });
      assert.ok(worst <= 1, `${t} |rho| bytes differ by ${worst}`);
      close(got.pca!.x, want.pca.x, 1e-4, `${t} pca.x`);
      close(got.pca!.y, want.pca.y, 1e-4, `${t} pca.y`);
      close(got.pca!.variance, want.pca.variance, 1e-10, `${t} pca.variance`);
      if (t === 'isobn') {
        close(got.isobn!.std, want.isobn.std, 1e-12, 'isobn s_i');
        close(got.isobn!.gamma, want.isobn.gamma, 1e-12, 'isobn gamma_i');
      }
    }
  });
}

test('diagnostics: one per result, in the same order, with the input and transform named', async () => {
  const x = anisotropic(300, 6, 3);
  const a = await analyze([matrixSource(x, 300, 6)], { transforms: 'isobn,standardize,whiten,abtt', onePass: true });
  assert.equal(a.diagnostics!.map((v) => [v.input, v.transform]), a.results.map((r) => [r.input, r.transform]));
  const byName = new Map<string, ViewDiagnostics>(a.diagnostics!.map((v) => [v.transform, v]));
  // Per-dimension rescalings keep the correlations: no raster of their own.
  assert.is(byName.get('isobn')!.corrAbs, null);
  assert.is(byName.get('standardize')!.corrAbs, null);
  assert.ok(byName.get('whiten')!.corrAbs && byName.get('abtt')!.corrAbs && byName.get('none')!.corrAbs);
  for (const v of a.diagnostics!) {
    const r = a.results.find((q) => q.transform === v.transform)!;
    const mean = v.std.reduce((p, q) => p + q, 0) / v.std.length;
    assert.ok(Math.abs(mean - r.std.mean) <= 1e-12 * r.std.mean, `${v.transform}: std array and summary agree`);
    assert.is(v.corrHistogram.counts.reduce((p, q) => p + q, 0), 15, 'all 6*5/2 pairs counted');
  }
  // Whitened rows are isotropic: every std is 1 and the PCA axes carry equal shares.
  const w = byName.get('whiten')!;
  w.std.forEach((s) => assert.ok(Math.abs(s - 1) < 1e-9));
  assert.ok(Math.abs(w.pca!.variance[0] - 1 / 6) < 1e-9);
});

test('diagnostics: gamma_i of IsoBN lies in [1/d, 1], and the scale follows from it', async () => {
  const d = 5;
  const a = await analyze([matrixSource(anisotropic(400, d, 9), 400, d)], { transforms: 'isobn', onePass: true, diagnostics: true });
  const v = a.diagnostics![1];
  const scale = a.results[1].scale!;
  v.isobn!.gamma.forEach((g) => assert.ok(g >= 1 / d - 1e-15 && g <= 1 + 1e-15));
  // a_i (gamma_i s_i + eps)^(1/2) is the same constant for every i (the energy factor).
  const k = v.isobn!.gamma.map((g, i) => scale[i] * Math.sqrt(g * v.isobn!.std[i] + 1e-3));
  k.forEach((x) => assert.ok(Math.abs(x - k[0]) < 1e-12 * k[0]));
});

test('corrHistogram: known correlations land in their bins; constant dims are left out', () => {
  const rho = Float64Array.from([1, 0.5, -1, 0, 0.5, 1, 0.999, 0, -1, 0.999, 1, 0, 0, 0, 0, 1]);
  const h = corrHistogram(rho, 4, Uint8Array.from([0, 0, 0, 1]));
  assert.is(h.edges.length, CORR_BINS + 1);
  assert.is(h.edges[0], -1);
  assert.is(h.edges[20], 0);
  assert.is(h.edges[CORR_BINS], 1);
  assert.is(h.counts.reduce((p, q) => p + q, 0), 3);
  assert.is(h.counts[0], 1, '-1 in the first bin');
  assert.is(h.counts[30], 1, '0.5 opens bin 30');
  assert.is(h.counts[39], 1, '0.999 in the last bin');
});

test('absRaster: bytes round(255 |rho|), row-major', () => {
  const r = absRaster(Float64Array.from([1, -0.5, -0.5, 1]), 2);
  assert.equal([...Buffer.from(r.data, 'base64')], [255, 128, 128, 255]);
  assert.is(r.dims, 2);
});

test('pcaScatter: points on a line have all variance on the first axis and y = 0', () => {
  const n = 50, d = 3;
  const g = gaussian(4);
  const x = new Float64Array(n * d);
  for (let r = 0; r < n; r++) { const t = g(); x[r * d] = 2 * t + 1; x[r * d + 1] = -t; x[r * d + 2] = 7; }
  const acc = new StatsAccumulator(d);
  acc.push(x, n);
  const p = pcaScatter(x, n, momentsOf(acc));
  assert.ok(Math.abs(p.variance[0] - 1) < 1e-12 && p.variance[1] < 1e-12);
  p.y.forEach((y) => assert.ok(Math.abs(y) < 1e-9));
  // Axis sign: the largest component (the first dim's 2/sqrt(5)) is positive.
  const meanX = acc.mean[0];
  assert.ok(Math.sign(p.x[0]) === Math.sign(x[0] - meanX) || Math.abs(x[0] - meanX) < 1e-12);
});

test('sampleIndices: k distinct ascending indices, seeded, all when k >= n', () => {
  const s = sampleIndices(1000, 100, 7);
  assert.is(s.length, 100);
  assert.is(new Set(s).size, 100);
  assert.ok(s.every((v, i) => v >= 0 && v < 1000 && (i === 0 || v > s[i - 1])));
  assert.equal(sampleIndices(1000, 100, 7), s, 'same seed, same sample');
  assert.not.equal(sampleIndices(1000, 100, 8), s, 'another seed, another sample');
  assert.equal(sampleIndices(5, 10, 1), [0, 1, 2, 3, 4]);
  // Uniform: each half of the range holds about half of a large sample.
  const big = sampleIndices(100000, 5000, 1);
  const low = big.filter((v) => v < 50000).length;
  assert.ok(Math.abs(low - 2500) < 200, `${low} of 5000 in the lower half`);
});

test('readRows: the rows at the indices, NaN rows left out', async () => {
  const n = 300, d = 2;
  const x = Float64Array.from({ length: n * d }, (_, i) => i);
  x[101 * d] = NaN;
  const idx = [0, 5, 101, 102, 250, 299];
  const got = await readRows(matrixSource(x, n, d), idx);
  assert.is(got.rows, 5);
  assert.equal([...got.data], [0, 1, 10, 11, 204, 205, 500, 501, 598, 599]);
});

test('analyze: sha256 of the file, labels, tool; diagnostics can be left out', async () => {
  const path = new URL('base_f8.npy', dir).pathname;
  const a = await analyze([path], { onePass: true });
  assert.is(a.inputs[0].sha256, createHash('sha256').update(readFileSync(path)).digest('hex'));
  assert.is(a.inputs[0].label, 'base_f8');
  assert.is(a.tool!.name, 'isotropy-toolkit');
  const b = await analyze([path, path], { onePass: true, labels: ['A', '<b>'], diagnostics: false });
  assert.equal(b.inputs.map((i) => i.label), ['A', '<b>']);
  assert.is(b.diagnostics, undefined);
  const same = await analyze([path, path], { onePass: true, diagnostics: false });
  assert.equal(same.inputs.map((i) => i.label), [path, path], 'equal file names fall back to the paths');
  await rejects(() => analyze([path], { labels: ['a', 'b'] }), /2 label\(s\) for 1 input\(s\)/);
  await rejects(() => analyze([path], { sampleRows: 6000 }), /--sample-rows must be a whole number from 0 to 5000/);
});

test('analyzeShards: diagnostics from the statistics alone, without a PCA scatter', async () => {
  const acc = new StatsAccumulator(4);
  acc.push(anisotropic(100, 4, 2), 100);
  const a = await analyzeShards([acc], ['s.json'], { transforms: 'isobn' });
  assert.is(a.diagnostics!.length, 2);
  assert.is(a.diagnostics![0].pca, null);
  assert.ok(a.diagnostics![1].isobn);
});

test.run();
