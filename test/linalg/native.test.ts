import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNative, nativeUnavailableReason, type NativeBlas } from '../../src/linalg/native.ts';
import { addGramUpper } from '../../src/linalg/gram.ts';
import { matmul } from '../../src/linalg/gemm.ts';
import { eigh } from '../../src/linalg/eigh.ts';
import { anisotropic, gaussian } from '../helpers/random.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SKIP_LINE = /^isotropy: native BLAS addon not built \(.+\); using the portable kernels$/m;

/** max |a - b| over max |b|: relative to the matrix's scale, so entries near zero do not blow it up. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.is(a.length, b.length);
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return den === 0 ? num : num / den;
}

function upper(m: Float64Array, d: number): number[] {
  const u: number[] = [];
  for (let i = 0; i < d; i++) for (let j = i; j < d; j++) u.push(m[i * d + j]);
  return u;
}

function lower(m: Float64Array, d: number): number[] {
  const l: number[] = [];
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) l.push(m[i * d + j]);
  return l;
}

/** A symmetric d x d matrix with distinct eigenvalues (a Gram matrix of more rows than columns). */
function symmetric(d: number, seed: number): Float64Array {
  const x = anisotropic(d + 5, d, seed);
  const g = new Float64Array(d * d);
  addGramUpper(x, d + 5, d, g);
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) g[i * d + j] = g[j * d + i];
  return g;
}

function runBuildScript(env: Record<string, string>, root = ROOT): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'scripts/build-native.mjs')], {
    env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000,
  });
  return { status: r.status, stderr: r.stderr };
}

test('build-native: ISOTROPY_NO_NATIVE=1 skips, prints the one skip line and exits 0', () => {
  const r = runBuildScript({ ISOTROPY_NO_NATIVE: '1' });
  assert.is(r.status, 0);
  assert.is(r.stderr, 'isotropy: native BLAS addon not built (ISOTROPY_NO_NATIVE=1); using the portable kernels\n');
});

test('build-native: a failing node-gyp does not fail the install', () => {
  // A copy of the script and binding.gyp in a scratch package, so the real native/build is untouched.
  // Where OpenBLAS is present this reaches the (fake) node-gyp; elsewhere it stops at the search.
  // Either way: one skip line and exit 0.
  const dir = mkdtempSync(join(tmpdir(), 'isotropy-gyp-'));
  try {
    mkdirSync(join(dir, 'scripts'));
    mkdirSync(join(dir, 'native'));
    copyFileSync(join(ROOT, 'scripts/build-native.mjs'), join(dir, 'scripts/build-native.mjs'));
    copyFileSync(join(ROOT, 'native/binding.gyp'), join(dir, 'native/binding.gyp'));
    const fake = join(dir, 'node-gyp.js');
    writeFileSync(fake, 'console.error("gyp ERR! stack Error: simulated failure"); process.exit(1);\n');
    const r = runBuildScript({ ISOTROPY_NO_NATIVE: '', npm_config_node_gyp: fake }, dir);
    assert.is(r.status, 0);
    assert.match(r.stderr, SKIP_LINE);
    assert.is(r.stderr.trim().split('\n').length, 1);
    if (existsSync(join(dir, 'native/build/build.log'))) assert.match(r.stderr, /simulated failure; see native\/build\/build.log/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loadNative: ISOTROPY_NATIVE=0 disables it and says so', () => {
  const saved = process.env.ISOTROPY_NATIVE;
  process.env.ISOTROPY_NATIVE = '0';
  try {
    assert.is(loadNative(), null);
    assert.match(nativeUnavailableReason() ?? '', /ISOTROPY_NATIVE=0/);
  } finally {
    if (saved === undefined) delete process.env.ISOTROPY_NATIVE;
    else process.env.ISOTROPY_NATIVE = saved;
  }
});

test('loadNative: the reason is null exactly when the addon loads, and is cached', () => {
  const blas = loadNative();
  assert.is(blas === null, nativeUnavailableReason() !== null);
  assert.is(loadNative(), blas);
});

test('loadNative from dist/ finds the same addon as from src/', async () => {
  const distUrl = new URL('../../dist/linalg/native.js', import.meta.url);
  if (!existsSync(fileURLToPath(distUrl))) return; // npm test builds dist first; a bare uvu run may not
  const dist = (await import(distUrl.href)) as { loadNative(): NativeBlas | null };
  assert.is(dist.loadNative() !== null, loadNative() !== null);
});

const blas = loadNative();
if (!blas) {
  console.log(`native.test: OpenBLAS addon tests skipped (${nativeUnavailableReason()})`);
} else {
  const nb: NativeBlas = blas;

  test('info names OpenBLAS and its thread count', () => {
    assert.match(nb.info(), /OpenBLAS .*\(\d+ threads?\)$/);
    assert.is(nb.apiVersion, 4);
  });

  for (const [rows, dims] of [[9, 1], [9, 3], [9, 4], [9, 7], [13, 13], [67, 33], [1, 5], [200, 65]]) {
    test(`syrkUpper equals addGramUpper (${rows} x ${dims}), beta 1 and 0, lower triangle untouched`, () => {
      const x = anisotropic(rows, dims, rows + dims);
      const x0 = x.slice();
      const start = Float64Array.from({ length: dims * dims }, (_, i) => (i % 7) - 3);
      const ref = start.slice();
      addGramUpper(x, rows, dims, ref);
      const got = start.slice();
      nb.syrkUpper(x, rows, dims, got, 1);
      assert.ok(relErr(upper(got, dims), upper(ref, dims)) < 1e-12);
      assert.equal(lower(got, dims), lower(start, dims));

      const fresh = new Float64Array(dims * dims);
      addGramUpper(x, rows, dims, fresh);
      const got0 = start.slice();
      nb.syrkUpper(x, rows, dims, got0, 0);
      assert.ok(relErr(upper(got0, dims), upper(fresh, dims)) < 1e-12);
      assert.equal(lower(got0, dims), lower(start, dims));
      assert.equal(x, x0);
    });
  }

  test('syrkUpper: rows 0 adds nothing (beta 1) or zeroes the upper triangle (beta 0); dims 0 is a no-op', () => {
    const out = Float64Array.of(1, 2, 3, 4);
    nb.syrkUpper(new Float64Array(0), 0, 2, out, 1);
    assert.equal(Array.from(out), [1, 2, 3, 4]);
    nb.syrkUpper(new Float64Array(0), 0, 2, out, 0);
    assert.equal(Array.from(out), [0, 0, 3, 0]);
    nb.syrkUpper(new Float64Array(0), 5, 0, new Float64Array(0), 1);
  });

  test('syrkUpper uses the first rows * dims elements of a longer x', () => {
    const x = anisotropic(10, 3, 4);
    const ref = new Float64Array(9), got = new Float64Array(9);
    addGramUpper(x.subarray(0, 12), 4, 3, ref);
    nb.syrkUpper(x, 4, 3, got, 0);
    assert.ok(relErr(upper(got, 3), upper(ref, 3)) < 1e-12);
  });

  for (const [m, k, n] of [[1, 1, 1], [7, 5, 3], [4, 8, 4], [13, 17, 11], [33, 65, 9]]) {
    test(`gemm equals matmul (${m} x ${k} times ${k} x ${n}), new and given out`, () => {
      const a = anisotropic(m, k, m), b = anisotropic(k, n, n + 1);
      const a0 = a.slice(), b0 = b.slice();
      const ref = matmul(a, m, k, b, n);
      const c = nb.gemm(a, m, k, b, n);
      assert.ok(c instanceof Float64Array);
      assert.ok(relErr(c, ref) < 1e-12);
      const out = new Float64Array(m * n).fill(NaN); // beta 0: old contents are never read
      assert.is(nb.gemm(a, m, k, b, n, out), out);
      assert.ok(relErr(out, ref) < 1e-12);
      assert.equal(a, a0);
      assert.equal(b, b0);
    });
  }

  test('gemm: empty shapes and k = 0 give zeros', () => {
    assert.is(nb.gemm(new Float64Array(0), 0, 3, new Float64Array(6), 2).length, 0);
    assert.equal(Array.from(nb.gemm(new Float64Array(0), 2, 0, new Float64Array(0), 2)), [0, 0, 0, 0]);
    const out = Float64Array.of(5, 5);
    nb.gemm(new Float64Array(0), 1, 0, new Float64Array(0), 2, out);
    assert.equal(Array.from(out), [0, 0]);
  });

  for (const d of [1, 2, 3, 5, 13, 40]) {
    test(`syevd equals eigh (d = ${d}): values, vectors up to sign, input unmodified`, () => {
      const m = symmetric(d, d + 2);
      // Garbage below the diagonal: only the upper triangle may be read.
      for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) m[i * d + j] = 1e6 * (i - j);
      const m0 = m.slice();
      const ref = eigh(m, d, { vectors: true });
      const got = nb.syevd(m, d, true);
      assert.equal(m, m0);
      assert.ok(relErr(got.values, ref.values) < 1e-12, `values ${relErr(got.values, ref.values)}`);
      for (let k = 1; k < d; k++) assert.ok(got.values[k] <= got.values[k - 1]);
      const v = got.vectors!, rv = ref.vectors!;
      assert.is(v.length, d * d);
      // An eigenvector is only determined to about eps * |lambda_max| / gap (its condition number), so
      // the 1e-12 relative bound is scaled by that; the values themselves need no such allowance.
      const top = Math.abs(ref.values[0]);
      for (let k = 0; k < d; k++) {
        const gap = Math.min(k > 0 ? ref.values[k - 1] - ref.values[k] : Infinity, k < d - 1 ? ref.values[k] - ref.values[k + 1] : Infinity);
        const tol = 1e-12 * Math.max(1, top / gap);
        let dot = 0;
        for (let i = 0; i < d; i++) dot += v[i * d + k] * rv[i * d + k];
        const s = Math.sign(dot);
        const col = Array.from({ length: d }, (_, i) => s * v[i * d + k]);
        const rcol = Array.from({ length: d }, (_, i) => rv[i * d + k]);
        assert.ok(relErr(col, rcol) < tol, `vector ${k}: ${relErr(col, rcol)} >= ${tol}`);
      }
      const only = nb.syevd(m, d, false);
      assert.equal(Object.keys(only), ['values']);
      assert.ok(relErr(only.values, ref.values) < 1e-12);
      assert.equal(m, m0);
    });
  }

  test('syevd: residual and orthonormality on a larger matrix (d = 120)', () => {
    const d = 120, m = symmetric(d, 9);
    const { values, vectors } = nb.syevd(m, d, true);
    const v = vectors!;
    const av = nb.gemm(m, d, d, v, d);
    const scale = Math.abs(values[0]);
    let res = 0, orth = 0;
    for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) res = Math.max(res, Math.abs(av[i * d + k] - values[k] * v[i * d + k]));
    const vtv = nb.gemm(Float64Array.from({ length: d * d }, (_, p) => v[(p % d) * d + Math.floor(p / d)]), d, d, v, d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) orth = Math.max(orth, Math.abs(vtv[i * d + j] - (i === j ? 1 : 0)));
    assert.ok(res / scale < 1e-12, `residual ${res / scale}`);
    assert.ok(orth < 1e-12, `orthonormality ${orth}`);
  });

  test('syevd: d = 0 and a diagonal matrix', () => {
    const e = nb.syevd(new Float64Array(0), 0, true);
    assert.is(e.values.length, 0);
    assert.is(e.vectors!.length, 0);
    const r = nb.syevd(Float64Array.of(1, 0, 0, 0, 3, 0, 0, 0, 2), 3, true);
    assert.equal(Array.from(r.values), [3, 2, 1]);
    assert.equal(Array.from(r.vectors!).map(Math.abs), [0, 0, 1, 1, 0, 0, 0, 1, 0]);
  });

  test('syevdMany: each result equals its own syevd (side by side, one BLAS thread each), threads restored', () => {
    const threads = nb.blasThreads();
    for (const vectors of [true, false]) {
      const ms = [symmetric(40, 1), symmetric(7, 2), symmetric(40, 3), new Float64Array(0), symmetric(1, 4)];
      const inputs = ms.map((m) => m.slice());
      const got = nb.syevdMany(ms, vectors);
      assert.is(got.length, ms.length);
      ms.forEach((m, k) => {
        const d = Math.sqrt(m.length);
        const one = nb.syevd(m, d, vectors);
        assert.equal(Object.keys(got[k]), Object.keys(one));
        // the same LAPACK call on one thread, like syevd on one: the same numbers up to rounding
        assert.ok(relErr(got[k].values, one.values) < 1e-13, `values ${k}`);
        if (vectors) assert.ok(relErr(got[k].vectors!.map(Math.abs), one.vectors!.map(Math.abs)) < 1e-9, `vectors ${k}`);
        assert.equal(m, inputs[k]);
      });
    }
    assert.equal(nb.syevdMany([]), []);
    assert.is(nb.blasThreads(), threads);
  });

  test('argument validation: TypeError for types, RangeError for sizes and values', () => {
    const x = new Float64Array(6), out = new Float64Array(9);
    const throwsWith = (fn: () => unknown, type: typeof TypeError | typeof RangeError, msg: RegExp) => {
      try {
        fn();
      } catch (e) {
        assert.instance(e, type);
        assert.match((e as Error).message, msg);
        return;
      }
      assert.unreachable('did not throw');
    };
    const anyNb = nb as unknown as Record<string, (...args: unknown[]) => unknown>;
    throwsWith(() => anyNb.syrkUpper(new Float32Array(6), 2, 3, out, 0), TypeError, /x must be a Float64Array, got a Float32Array/);
    throwsWith(() => anyNb.syrkUpper([1, 2, 3], 1, 3, out, 0), TypeError, /x must be a Float64Array, got object/);
    throwsWith(() => anyNb.syrkUpper(x, '2', 3, out, 0), TypeError, /rows must be a number, got string/);
    throwsWith(() => anyNb.syrkUpper(x, 2, 3, out), TypeError, /needs 5 arguments, got 4/);
    throwsWith(() => anyNb.syrkUpper(x, 2, 3, out, true), TypeError, /beta must be the number 0 or 1/);
    throwsWith(() => nb.syrkUpper(x, 2.5, 3, out, 0), RangeError, /rows must be a non-negative integer, got 2.5/);
    throwsWith(() => nb.syrkUpper(x, -1, 3, out, 0), RangeError, /rows must be a non-negative integer/);
    throwsWith(() => nb.syrkUpper(x, 3, 3, out, 0), RangeError, /x has 6 elements, rows x dims = 3 x 3 needs 9/);
    throwsWith(() => nb.syrkUpper(x, 2, 3, new Float64Array(8), 0), RangeError, /out has 8 elements.*exactly 9/);
    throwsWith(() => nb.syrkUpper(x, 2, 3, out, 2 as 1), RangeError, /beta must be 0 or 1, got 2/);
    const shared = new Float64Array(15);
    throwsWith(() => nb.syrkUpper(shared.subarray(0, 6), 2, 3, shared.subarray(5, 14), 0), RangeError, /must not share memory/);
    throwsWith(() => nb.gemm(x, 2, 2, x, 3), RangeError, /a has 6 elements, m x k = 2 x 2 needs exactly 4/);
    throwsWith(() => nb.gemm(x, 2, 3, x, 3), RangeError, /b has 6 elements, k x n = 3 x 3 needs exactly 9/);
    throwsWith(() => nb.gemm(x, 2, 3, new Float64Array(6), 2, new Float64Array(3)), RangeError, /out has 3 elements/);
    throwsWith(() => nb.gemm(shared.subarray(0, 4), 2, 2, shared.subarray(4, 8), 2, shared.subarray(6, 10)), RangeError, /must not share memory/);
    throwsWith(() => anyNb.gemm(x, 2, 3, new Int32Array(6), 2), TypeError, /b must be a Float64Array, got a Int32Array/);
    throwsWith(() => nb.syevd(new Float64Array(8), 3), RangeError, /m has 8 elements, d x d = 3 x 3 needs exactly 9/);
    throwsWith(() => anyNb.syevd(new Float64Array(4), 2, 1), TypeError, /vectors must be a boolean, got number/);
    throwsWith(() => nb.syevd(Float64Array.of(1, NaN, 0, 1), 2), RangeError, /m\[0 \* d \+ 1\] is NaN; the matrix must be finite/);
    throwsWith(() => nb.syevd(Float64Array.of(1, 0, 0, -Infinity), 2), RangeError, /-Infinity/);
    // NaN below the diagonal is never read.
    assert.equal(Array.from(nb.syevd(Float64Array.of(2, 0, NaN, 1), 2).values), [2, 1]);
    const threads = nb.blasThreads();
    throwsWith(() => nb.syevdMany([symmetric(3, 1), new Float64Array(8)]), RangeError, /ms\[1\] has 8 elements, which is no d x d/);
    throwsWith(() => nb.syevdMany([Float64Array.of(1, NaN, 0, 1)], true), RangeError, /is NaN; the matrix must be finite/);
    throwsWith(() => anyNb.syevdMany(new Float64Array(4)), TypeError, /ms must be an array of Float64Array/);
    throwsWith(() => anyNb.syevdMany([[1]]), TypeError, /ms\[0\] must be a Float64Array/);
    assert.is(nb.blasThreads(), threads);
  });

  test('syrkUpper on a block of gaussian noise matches addGramUpper across many rows', () => {
    const g = gaussian(3), rows = 1000, dims = 37;
    const x = Float64Array.from({ length: rows * dims }, g);
    const ref = new Float64Array(dims * dims), got = new Float64Array(dims * dims);
    addGramUpper(x, rows, dims, ref);
    nb.syrkUpper(x, rows, dims, got, 1);
    assert.ok(relErr(upper(got, dims), upper(ref, dims)) < 1e-12);
  });
}

test.run();
