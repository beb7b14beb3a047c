// Metrics that are undefined for the data are null with a reason and a warning, never NaN and
// never the isotropic value; I(W) is null where W'^T W' has repeated eigenvalues (after whitening).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { analyze, nullWarnings } from '../../src/analyze/analyze.ts';
import { GAP_TOL, degenerateSpectrum } from '../../src/analyze/second-pass.ts';
import { matrixSource } from '../../src/io/memory-source.ts';
import { anisotropic } from '../helpers/random.ts';

async function run(x: Float64Array, d: number, transforms: string, backend = 'js') {
  const warnings: string[] = [];
  const a = await analyze([matrixSource(x, undefined, d)], { transforms, backend, threads: 1, onWarning: (m) => warnings.push(m) });
  return { a, warnings };
}

/** No NaN anywhere in an analysis (JSON would print it as null, so look before it does). */
const noNaN = (v: unknown) => assert.not.match(JSON.stringify(v, (_k, x) => (typeof x === 'number' && Number.isNaN(x) ? 'NaN!' : x)), 'NaN!');

test('identical rows (layer-0 [CLS] vectors): spread, correlation, spectrum n/a; I(W) and cosine defined; IsoBN maps them to 0', async () => {
  const d = 6;
  const row = [0.3, -1.2, 2.5, 0.01, -0.7, 1.1];
  const x = Float64Array.from({ length: 40 * d }, (_, i) => row[i % d]);
  const { a, warnings } = await run(x, d, 'isobn,standardize');
  const [none, iso, std] = a.results;
  for (const r of a.results) {
    for (const k of ['std.cv', 'corr.meanAbs', 'corr.maxAbs', 'spectrum.top1', 'spectrum.top10', 'spectrum.effectiveRank', 'spectrum.condition', 'isoScore']) {
      assert.ok(r.nullReasons?.[k], `${r.transform} ${k} has a reason`);
    }
    assert.is(r.isoScore, null);
    assert.is(r.corr.meanAbs, null);
    assert.is(r.spectrum.top1, null);
  }
  // a repeated vector is as anisotropic as it gets: cosine 1, I(W) = exp(-2 |w|), not 1
  assert.ok(Math.abs(none.avgCosine! - 1) < 1e-12);
  const norm = Math.hypot(...row);
  assert.ok(Math.abs(none.partitionIsotropy! - Math.exp(-2 * norm)) < 1e-9 * Math.exp(-2 * norm));
  assert.equal(std.partitionIsotropy, none.partitionIsotropy);
  // IsoBN's energy rescaling of zero variance is a zero scale: every row becomes 0
  assert.ok(iso.scale!.every((s) => s === 0));
  assert.is(iso.partitionIsotropy, null);
  assert.is(iso.avgCosine, null);
  assert.match(iso.nullReasons!.partitionIsotropy, 'the transform maps every row to zero');
  assert.ok(warnings.some((w) => /every row is the same/.test(w)));
  assert.ok(warnings.some((w) => /isoScore.* are n\/a \(none, isobn, standardize\): no variance/.test(w)), warnings.join('\n'));
  noNaN(a);
});

test('an all-zero file: I(W) and the cosine are n/a too (Z(c) = n everywhere is not isotropy)', async () => {
  const { a, warnings } = await run(new Float64Array(30 * 4), 4, 'isobn');
  for (const r of a.results) {
    assert.is(r.partitionIsotropy, null);
    assert.is(r.avgCosine, null);
    assert.is(r.isoScore, null);
    assert.match(r.nullReasons!.partitionIsotropy, /every row is zero|maps every row to zero/);
  }
  assert.is(a.inputs[0].zeroRows, 30);
  assert.ok(warnings.some((w) => /every row is zero/.test(w)));
  noNaN(a);
});

test('repeated eigenvalues of W^T W: the rule, and I(W) after whitening is null with the reason in every backend', async () => {
  assert.is(degenerateSpectrum([5, 3, 1]), null);
  assert.match(degenerateSpectrum([5, 3, 3 * (1 - GAP_TOL / 2), 1])!, /components 2 and 3/);
  // the null space (numerically zero eigenvalues) is harmless: Z(c) = n there in every direction
  assert.is(degenerateSpectrum([5, 3, 1e-17, 1e-17, 0]), null);
  const x = anisotropic(300, 7, 4);
  for (const backend of ['js', 'wasm']) {
    const { a, warnings } = await run(x, 7, 'isobn,whiten', backend);
    const w = a.results.find((r) => r.transform === 'whiten')!;
    assert.is(w.partitionIsotropy, null);
    assert.match(w.nullReasons!.partitionIsotropy, "repeated eigenvalues");
    assert.ok(a.results.filter((r) => r.transform !== 'whiten').every((r) => r.partitionIsotropy !== null));
    assert.ok(warnings.some((m) => /partitionIsotropy is n\/a \(whiten\): W'\^T W' has repeated eigenvalues/.test(m)), warnings.join('\n'));
  }
});

test('nullWarnings groups one warning per reason, naming the views', () => {
  const r = (transform: 'none' | 'isobn', reasons: Record<string, string>) => ({ transform, nullReasons: reasons }) as never;
  assert.equal(nullWarnings([r('none', { isoScore: 'A', 'spectrum.top1': 'A' }), r('isobn', { isoScore: 'A', avgCosine: 'B' })]), [
    'isoScore, spectrum.top1 are n/a (none, isobn): A',
    'avgCosine is n/a (isobn): B',
  ]);
});

test('values too large for float64 squares are refused, not turned into NaN metrics', async () => {
  const x = anisotropic(20, 3, 2).map((v) => v * 1e200);
  try {
    await analyze([matrixSource(x, undefined, 3)], { backend: 'js', threads: 1 });
    assert.unreachable('no error');
  } catch (e) {
    assert.match((e as Error).message, /values too large: .* overflow float64.*rescale/);
  }
});

test.run();
