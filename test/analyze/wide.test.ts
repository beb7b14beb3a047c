// Tiny but wide inputs (n << d, as the [CLS] vectors of a handful of sentences from an LLM) take
// the low-rank path: the same numbers as a dense computation from the rows, in milliseconds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { analyze } from '../../src/analyze/analyze.ts';
import { matrixSource } from '../../src/io/memory-source.ts';
import { eigh } from '../../src/linalg/eigh.ts';
import { isoScore } from '../../src/stats/iso-score.ts';
import { anisotropic } from '../helpers/random.ts';
import { join } from 'node:path';
import { analyzePlan } from '../../src/analyze/shard-reduce.ts';
import { computePartial, partialFromJSON, partialToJSON } from '../../src/analyze/shard-partial.ts';
import { planFromJSON, planShards, planToJSON } from '../../src/analyze/shard-plan.ts';
import { computeShard, shardFromJSON, shardToJSON } from '../../src/analyze/shards.ts';
import { writeNpy } from '../../src/io/npy-writer.ts';
import { makeTempDir } from '../io/helpers.ts';

/** Reference from the rows, dense: covariance eigenvalues, I(W) over all 2d eigenvectors of W^T W. */
function reference(w: Float64Array, n: number, d: number) {
  const mean = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let c = 0; c < d; c++) mean[c] += w[r * d + c] / n;
  const cov = new Float64Array(d * d), g = new Float64Array(d * d);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        cov[i * d + j] += ((w[r * d + i] - mean[i]) * (w[r * d + j] - mean[j])) / n;
        g[i * d + j] += w[r * d + i] * w[r * d + j];
      }
    }
  }
  const values = eigh(cov, d).values;
  const { vectors } = eigh(g, d, { vectors: true });
  let lo = Infinity, hi = -Infinity;
  for (let k = 0; k < d; k++) {
    for (const sign of [1, -1]) {
      const p = Array.from({ length: n }, (_, r) => { let s = 0; for (let i = 0; i < d; i++) s += sign * vectors![i * d + k] * w[r * d + i]; return s; });
      const m = Math.max(...p);
      const logZ = m + Math.log(p.reduce((s, x) => s + Math.exp(x - m), 0));
      lo = Math.min(lo, logZ);
      hi = Math.max(hi, logZ);
    }
  }
  return { values, isoScore: isoScore(values), partitionIsotropy: Math.exp(lo - hi) };
}

for (const [n, d] of [[2, 300], [5, 256], [12, 130]] as const) {
  test(`${n} x ${d}: spectrum, IsoScore and I(W) as a dense computation from the rows`, async () => {
    const w = anisotropic(n, d, n + d);
    const ref = reference(w, n, d);
    // wasm projects in float32: I(W) ~ 1e-160 here, so its log carries ~1e-5 relative error
    for (const [backend, tol] of [['js', 1e-6], ['wasm', 1e-4]] as const) {
      const a = await analyze([matrixSource(w, n, d)], { transforms: 'isobn,standardize', backend, threads: 1 });
      const r = a.results[0];
      const top = ref.values[0];
      r.spectrum.eigenvalues.forEach((v, k) => assert.ok(Math.abs(v - ref.values[k]) <= 1e-10 * top, `${backend} eigenvalue ${k}: ${v} vs ${ref.values[k]}`));
      assert.ok(Math.abs(r.isoScore! - ref.isoScore!) < 1e-9, `${backend} isoScore ${r.isoScore} vs ${ref.isoScore}`);
      assert.ok(Math.abs(r.partitionIsotropy! - ref.partitionIsotropy) <= tol * ref.partitionIsotropy, `${backend} I(W) ${r.partitionIsotropy} vs ${ref.partitionIsotropy}`);
      assert.is(r.spectrum.condition, null);
      assert.match(r.nullReasons!['spectrum.condition'], `numerical rank ${n - 1} of ${d}`);
      // the transformed views too, against their own rows
      const iso = a.results[1];
      const scale = iso.scale!;
      const t = Float64Array.from(w, (x, idx) => x * scale[idx % d]);
      const tref = reference(t, n, d);
      assert.ok(Math.abs(iso.partitionIsotropy! - tref.partitionIsotropy) <= tol * tref.partitionIsotropy, `${backend} isobn I(W) ${iso.partitionIsotropy} vs ${tref.partitionIsotropy}`);
      assert.ok(Math.abs(iso.isoScore! - tref.isoScore!) < 1e-9);
    }
  });
}

test('a (2, 4096) float32 input: the low-rank path, no d^3 work (the issue: 74 s and 1.7 GB before)', async () => {
  const d = 4096;
  const w = new Float32Array(Array.from(anisotropic(2, 64, 7)).flatMap((x) => Array.from({ length: d / 64 }, (_, k) => x * (1 + k / 100))));
  const a = await analyze([matrixSource(w, 2, d)], { transforms: 'isobn', diagnostics: false });
  assert.is(a.results[0].spectrum.eigenvalues.length, d);
  assert.is(a.results[0].spectrum.eigenvalues.filter((v) => v > 0).length, 1);
  assert.ok(a.results.every((r) => r.partitionIsotropy !== null && r.isoScore !== null));
});

test('two rounds on shards of a wide file: the plan carries the null directions and the degenerate views (through JSON)', async () => {
  const tmp = makeTempDir();
  try {
    const [n, d] = [10, 160];
    const path = join(tmp.dir, 'wide.npy');
    await writeNpy(path, anisotropic(n, d, 5), n, d, { dtype: 'f8' });
    const js = { backend: 'js', threads: 1 } as const;
    const wire = <T>(v: T): unknown => JSON.parse(JSON.stringify(v));
    const parts = ['0/2', '1/2'];
    const shards = [];
    for (const shard of parts) shards.push(shardFromJSON(wire(shardToJSON(await computeShard(path, { ...js, shard })))));
    const { plan } = await planShards(shards, ['s0', 's1'], { transforms: 'isobn,whiten', backend: 'js' });
    // none and isobn have rank <= n in d = 160 dims: projected on their non-null directions only;
    // whiten's output has the covariance's rank as its dims (9), all of them with W'^T W' = n I
    assert.ok(plan.projection.views.slice(0, 2).every((v) => v.e <= n && v.nullRows === n), JSON.stringify(plan.projection.views));
    assert.match(plan.projection.views[2].degenerate!, 'repeated eigenvalues');
    const back = planFromJSON(wire(planToJSON(plan)));
    const partials = [];
    for (const shard of parts) partials.push(partialFromJSON(wire(partialToJSON(await computePartial(path, back, { ...js, shard }))), back));
    const two = await analyzePlan(back, partials, ['p0', 'p1'], { backend: 'js' });
    const one = await analyze([path], { transforms: 'isobn,whiten', ...js });
    two.results.forEach((r, k) => {
      const w = one.results[k];
      if (w.partitionIsotropy === null) assert.is(r.partitionIsotropy, null);
      else assert.ok(Math.abs(r.partitionIsotropy! - w.partitionIsotropy) <= 1e-10 * w.partitionIsotropy, `${r.transform} I(W) ${r.partitionIsotropy} vs ${w.partitionIsotropy}`);
      assert.equal(r.nullReasons?.partitionIsotropy, w.nullReasons?.partitionIsotropy);
    });
    assert.is(one.results[2].partitionIsotropy, null);
  } finally {
    tmp.cleanup();
  }
});

test.run();
