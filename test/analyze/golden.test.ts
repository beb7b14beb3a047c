// Every metric of every encoding against numpy (fixtures/make_golden.py -> fixtures/golden/expected.json).
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { analyze } from '../../src/analyze/analyze.ts';
import type { TransformResult } from '../../src/analyze/schema.ts';

const dir = new URL('../../fixtures/golden/', import.meta.url);
const expected = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8'));

type Leaf = [path: string, value: number | null];
function leaves(o: unknown, prefix = ''): Leaf[] {
  if (o === null || typeof o === 'number') return [[prefix, o as number | null]];
  if (Array.isArray(o)) return o.flatMap((v, i) => leaves(v, `${prefix}[${i}]`));
  if (typeof o === 'object') return Object.entries(o as object).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
  return [];
}

/** Relative 1e-6; 1e-5 for what comes out of an eigensolver (spectrum, IsoScore, I(W), whiten, abtt). */
function tolerance(path: string, transform: string): number {
  if (transform === 'whiten' || transform === 'abtt') return 1e-5;
  return /^(spectrum|isoScore|partitionIsotropy)/.test(path) ? 1e-5 : 1e-6;
}

function get(o: unknown, path: string): unknown {
  return path.split(/\.|\[|\]/).filter(Boolean).reduce((v: any, k) => (v == null ? v : v[k]), o);
}

for (const c of expected.cases) {
  const name = `${c.file}${c.layer === null ? '' : ` layer ${c.layer}`}${c.dropNonfinite ? ' --drop-nonfinite' : ''}`;
  test(`golden: ${name} matches numpy, before and after every transform`, async () => {
    const transforms = Object.keys(c.results).filter((t) => t !== 'none');
    const remove = c.results.abtt?.remove;
    const a = await analyze([new URL(c.file, dir).pathname], {
      transforms, layer: c.layer ?? undefined, dropNonfinite: c.dropNonfinite, remove,
    });
    assert.is(a.inputs[0].rows, c.rows);
    assert.is(a.inputs[0].dims, c.dims);
    assert.is(a.inputs[0].dtype, c.dtype);
    assert.is(a.inputs[0].fortranOrder, c.fortranOrder);
    assert.is(a.inputs[0].droppedRows, c.droppedRows);
    const unstable = new Map<string, Set<string>>();
    for (const u of expected.unstable) {
      if (u.file === c.file && u.layer === c.layer) unstable.set(u.transform, new Set(u.paths));
    }
    for (const [transform, want] of Object.entries(c.results) as [string, object][]) {
      const got = a.results.find((r: TransformResult) => r.transform === transform);
      assert.ok(got, `${transform} missing`);
      for (const [path, w] of leaves(want)) {
        if (path === 'remove') continue;
        const g = get(got, path) as number | null | undefined;
        const where = `${name} ${transform} ${path}: got ${g}, numpy ${w}`;
        if (unstable.get(transform)?.has(path)) {
          // Rounding noise or ill-defined (e.g. I(W) after whitening, where W'^T W' = nI has no
          // preferred eigenvectors): only require the same order of magnitude of nothing.
          if (path === 'partitionIsotropy' || path === 'spectrum.condition' || w === null) continue;
          assert.ok(typeof g === 'number' && Math.abs(g - w) < 1e-6, where);
          continue;
        }
        if (w === null) { assert.ok(g === null || Number.isNaN(g), where); continue; }
        assert.type(g, 'number', where);
        const tol = tolerance(path, transform);
        // Eigenvalues next to 0 are compared against the largest one.
        const floor = path.startsWith('spectrum.eigenvalues') ? (want as any).spectrum.eigenvalues[0] * 1e-3 : 1e-12;
        assert.ok(Math.abs(g! - w) <= tol * Math.max(Math.abs(w), floor), where);
      }
    }
  });
}

test('golden: avgCosine equals the O(n^2) double loop of numpy', async () => {
  const a = await analyze([new URL(expected.bruteForce.file, dir).pathname], { transforms: 'none' });
  assert.ok(Math.abs(a.results[0].avgCosine! - expected.bruteForce.avgCosine) < 1e-12);
});

test.run();
