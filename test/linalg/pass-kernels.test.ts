// The per-block kernels of the two passes (KernelBackend.momentsBlock, passProjector,
// scaledUnitRows) on every backend that has them, against the plain float64 definitions.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { jsBackend } from '../../src/linalg/backends/js.ts';
import { loadNativeBackend } from '../../src/linalg/backends/native.ts';
import { wrapProjector } from '../../src/linalg/backends/pass-projector.ts';
import { unavailableReason } from '../../src/linalg/backends/select.ts';
import type { KernelBackend, PassProjector } from '../../src/linalg/backends/types.ts';
import { loadWasmBackend } from '../../src/linalg/backends/wasm.ts';
import { matmul } from '../../src/linalg/gemm.ts';
import { addLogSumExpPlain } from '../../src/linalg/log-sum-exp.ts';
import { loadNative } from '../../src/linalg/native.ts';
import { addScaledUnitRows, addUnitRows, zeroRowFlags } from '../../src/linalg/unit-rows.ts';
import { StatsAccumulator } from '../../src/stats/accumulator.ts';
import { anisotropic } from '../helpers/random.ts';

const backends: Array<[string, () => Promise<KernelBackend>]> = [
  ['js', async () => jsBackend()],
  ['wasm', async () => loadWasmBackend()],
];
const nativeWhy = await unavailableReason('native');
if (nativeWhy === null) {
  const load = (projection: 'float32' | 'float64') => async () => {
    const b = await loadNativeBackend({ projection });
    if (typeof b === 'string') throw new Error(b);
    return b;
  };
  backends.push(['native', load('float32')], ['native (float64 projections)', load('float64')]);
} else {
  console.log(`  (native pass kernels skipped: ${nativeWhy})`);
}

/** Largest |a - b| over the largest |b|. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return den === 0 ? num : num / den;
}

/** rows x d rows with some all-zero rows. */
function rowsWithZeros(rows: number, d: number, seed: number): Float64Array {
  const x = anisotropic(rows, d, seed);
  for (const r of [0, 3, rows - 1]) if (r < rows) x.fill(0, r * d, (r + 1) * d);
  return x;
}

function passProjector(be: KernelBackend, dir: Float64Array, d: number, cols: number, bias: Float64Array | null, center: Float64Array | null): PassProjector {
  return be.passProjector?.(dir, d, cols, bias, center) ?? wrapProjector(be.projector(dir, d, cols, bias, center), cols);
}

/** The backend's fused first-pass kernel on `acc`, with the unit squares going to `sq` (or none). */
function addMomentsBlock(be: KernelBackend, acc: StatsAccumulator, part: Float32Array | Float64Array, rows: number, sq: Float64Array | null): void {
  acc.addFiniteWith(part, rows, (xb, n, d, a) =>
    be.momentsBlock!(xb, n, d, { count: a.count, mean: a.mean, comoment: a.comoment, unitSum: a.unitSum, unitSq: sq, min: a.min, max: a.max }));
}

for (const [name, load] of backends) {
  test(`${name}: the first pass's block update equals the TypeScript accumulator, unit squares or not`, async () => {
    const be = await load();
    for (const [rows, d, block] of [[1, 1, 1], [40, 3, 7], [301, 13, 50], [1000, 33, 1000], [257, 64, 64]]) {
      const x = rowsWithZeros(rows, d, rows + d);
      const ref = new StatsAccumulator(d);
      ref.addFinite(x, rows);
      for (const withSq of [false, true]) {
        const acc = new StatsAccumulator(d);
        const sq = withSq ? new Float64Array(d) : null;
        for (let r0 = 0; r0 < rows; r0 += block) {
          const b = Math.min(block, rows - r0);
          const part = x.subarray(r0 * d, (r0 + b) * d);
          if (be.momentsBlock) addMomentsBlock(be, acc, part, b, sq);
          else acc.addFinite(part, b, be.gramUpper, be.chunkRows);
        }
        const where = `${rows} x ${d} in blocks of ${block}`;
        assert.is(acc.count, rows, where);
        assert.is(acc.zeroRows, ref.zeroRows, where);
        assert.ok(relErr(acc.mean, ref.mean) < 1e-13, `${where} mean`);
        assert.ok(relErr(acc.comoment.filter((_, i) => i % d >= Math.floor(i / d)), ref.comoment.filter((_, i) => i % d >= Math.floor(i / d))) < 1e-12, `${where} comoment`);
        assert.ok(relErr(acc.unitSum, ref.unitSum) < 1e-13, `${where} unitSum`);
        assert.equal(acc.min, ref.min, where);
        assert.equal(acc.max, ref.max, where);
        if (sq && be.momentsBlock) {
          const want = new Float64Array(d);
          for (let r = 0; r < rows; r++) {
            let ss = 0;
            for (let c = 0; c < d; c++) ss += x[r * d + c] ** 2;
            if (ss > 0) for (let c = 0; c < d; c++) want[c] += x[r * d + c] ** 2 / ss;
          }
          assert.ok(relErr(sq, want) < 1e-13, `${where} unitSq`);
        }
      }
    }
    be.dispose();
  });

  test(`${name}: the pass projector's log-sum-exp and unit rows equal the float64 definitions`, async () => {
    const be = await load();
    const f32 = be.precision === 'float32';
    for (const [rows, d, cols, block] of [[1, 1, 1, 1], [50, 4, 7, 9], [700, 12, 30, 256], [300, 24, 48, 300]]) {
      const x = rowsWithZeros(rows, d, 3 * rows + d);
      const dir = anisotropic(d, cols, cols + 5);
      const bias = Float64Array.from({ length: cols }, (_, j) => (j % 3 === 0 ? 0 : j / 7 - 1));
      const center = new Float64Array(d);
      for (let r = 0; r < rows; r++) for (let c = 0; c < d; c++) center[c] += x[r * d + c] / rows;
      const p = passProjector(be, dir, d, cols, bias, f32 ? center : null);
      const st = { maxPos: new Float64Array(cols).fill(-Infinity), maxNeg: new Float64Array(cols).fill(-Infinity), sumPos: new Float64Array(cols), sumNeg: new Float64Array(cols) };
      const half = Math.ceil(cols / 2);
      const unit = [new Float64Array(half), new Float64Array(cols - half)];
      const added = [0, 0];
      for (let r0 = 0; r0 < rows; r0 += block) {
        const b = Math.min(block, rows - r0);
        const part = x.subarray(r0 * d, (r0 + b) * d);
        p.project(part, b);
        p.logSumExp(st.maxPos, st.maxNeg, st.sumPos, st.sumNeg);
        const skip = zeroRowFlags(part, b, d);
        added[0] += p.unitRows(0, half, unit[0], null);
        added[1] += p.unitRows(half, cols - half, unit[1], skip);
      }
      p.dispose();
      // float64 definitions
      const proj = matmul(x, rows, d, dir, cols).map((v, i) => v + bias[i % cols]);
      const ref = { maxPos: new Float64Array(cols).fill(-Infinity), maxNeg: new Float64Array(cols).fill(-Infinity), sumPos: new Float64Array(cols), sumNeg: new Float64Array(cols) };
      addLogSumExpPlain(proj, rows, cols, 0, cols, ref.maxPos, ref.maxNeg, ref.sumPos, ref.sumNeg);
      const logZ = (s: typeof st) => [...s.sumPos.map((v, j) => s.maxPos[j] + Math.log(v)), ...s.sumNeg.map((v, j) => s.maxNeg[j] + Math.log(v))];
      const want = logZ(ref), got = logZ(st);
      // float32 products: the projections' rounding (about 1e-7 of the centred rows' scale)
      const tol = f32 ? 1e-5 : 1e-12;
      want.forEach((w, i) => assert.ok(Math.abs(got[i] - w) <= tol * Math.max(1, Math.abs(w)), `${name} ${rows}x${d}x${cols} logZ[${i}]: ${got[i]} vs ${w}`));
      const wantUnit = [new Float64Array(half), new Float64Array(cols - half)];
      const wantAdded = [
        addUnitRows(proj, rows, cols, 0, half, wantUnit[0], null),
        addUnitRows(proj, rows, cols, half, cols - half, wantUnit[1], zeroRowFlags(x, rows, d)),
      ];
      assert.equal(added, wantAdded, `${rows}x${d}x${cols} rows added`);
      for (const k of [0, 1]) assert.ok(relErr(unit[k], wantUnit[k]) < (f32 ? 1e-5 : 1e-12), `unit ${k}: ${relErr(unit[k], wantUnit[k])}`);
    }
    be.dispose();
  });

  test(`${name}: scaled unit rows equal the mapped rows' unit rows`, async () => {
    const be = await load();
    const scaled = be.scaledUnitRows ?? addScaledUnitRows;
    const rows = 120, d = 9;
    const x = rowsWithZeros(rows, d, 77);
    const scale = Float64Array.from({ length: d }, (_, i) => (i === 4 ? 0 : 0.5 + i));
    // a row that only the zero scale sees maps to 0
    x.fill(0, 10 * d, 11 * d);
    x[10 * d + 4] = 3;
    const unit = new Float64Array(d);
    const n = scaled(x, rows, d, scale, unit);
    const mapped = x.map((v, i) => v * scale[i % d]);
    const want = new Float64Array(d);
    assert.is(n, addUnitRows(mapped, rows, d, 0, d, want, null));
    assert.is(n, rows - 4);
    assert.ok(relErr(unit, want) < 1e-14);
    be.dispose();
  });
  test(`${name}: float32 rows give exactly what the same rows widened to float64 give`, async () => {
    // Files store float32; the passes hand such blocks over unconverted (io's rawBlocks).
    const be = await load();
    const rows = 300, d = 24, cols = 40, block = 128;
    const x32 = Float32Array.from(rowsWithZeros(rows, d, 5));
    const x64 = Float64Array.from(x32);
    const dir = anisotropic(d, cols, 6);
    const center = new Float64Array(d).fill(0.25);
    const scale = Float64Array.from({ length: d }, (_, i) => 0.5 + i);
    const run = (x: Float32Array | Float64Array) => {
      const acc = new StatsAccumulator(d);
      const sq = new Float64Array(d);
      const p = passProjector(be, dir, d, cols, null, be.precision === 'float32' ? center : null);
      const st = [new Float64Array(cols).fill(-Infinity), new Float64Array(cols).fill(-Infinity), new Float64Array(cols), new Float64Array(cols)] as const;
      const unit = new Float64Array(cols), scaledUnit = new Float64Array(d);
      const flags: number[] = [];
      for (let r0 = 0; r0 < rows; r0 += block) {
        const b = Math.min(block, rows - r0);
        const part = x.subarray(r0 * d, (r0 + b) * d);
        if (be.momentsBlock) addMomentsBlock(be, acc, part, b, sq);
        p.project(part, b);
        p.logSumExp(...st);
        p.unitRows(0, cols, unit, null);
        (be.scaledUnitRows ?? addScaledUnitRows)(part, b, d, scale, scaledUnit);
        flags.push(...zeroRowFlags(part, b, d));
      }
      p.dispose();
      return [acc.mean, acc.comoment, acc.unitSum, sq, acc.min, acc.max, ...st, unit, scaledUnit, Float64Array.from(flags)].map((a) => Array.from(a));
    };
    assert.equal(run(x32), run(x64));
    be.dispose();
  });
}

test('log-sum-exp with a column too spread out for the quotient trick (native float32 path)', async () => {
  if (nativeWhy !== null) return;
  const be = await loadNativeBackend();
  if (typeof be === 'string') throw new Error(be);
  const rows = 2000, d = 2, cols = 2;
  // column 0 spreads over about 3000: exp(p - max) underflows for its low rows
  const x = Float64Array.from({ length: rows * d }, (_, i) => (i % 2 === 0 ? ((i / 2) % 7) * 200 - 600 : Math.sin(i)));
  const dir = Float64Array.of(1, 0, 0, 1);
  const p = be.passProjector!(dir, d, cols, null, new Float64Array(d));
  const st = { maxPos: new Float64Array(cols).fill(-Infinity), maxNeg: new Float64Array(cols).fill(-Infinity), sumPos: new Float64Array(cols), sumNeg: new Float64Array(cols) };
  for (let r0 = 0; r0 < rows; r0 += 500) {
    p.project(x.subarray(r0 * d, (r0 + 500) * d), 500);
    p.logSumExp(st.maxPos, st.maxNeg, st.sumPos, st.sumNeg);
  }
  const ref = { maxPos: new Float64Array(cols).fill(-Infinity), maxNeg: new Float64Array(cols).fill(-Infinity), sumPos: new Float64Array(cols), sumNeg: new Float64Array(cols) };
  addLogSumExpPlain(x, rows, cols, 0, cols, ref.maxPos, ref.maxNeg, ref.sumPos, ref.sumNeg);
  for (let j = 0; j < cols; j++) {
    for (const [a, b] of [[st.maxPos[j] + Math.log(st.sumPos[j]), ref.maxPos[j] + Math.log(ref.sumPos[j])], [st.maxNeg[j] + Math.log(st.sumNeg[j]), ref.maxNeg[j] + Math.log(ref.sumNeg[j])]]) {
      assert.ok(Number.isFinite(a) && Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b)), `column ${j}: ${a} vs ${b}`);
    }
  }
});

test('native block kernels check their arguments (type and size errors, not crashes)', () => {
  const nb = loadNative();
  if (!nb) return;
  const d = 3, rows = 2;
  const f = (n: number) => new Float64Array(n);
  const code = (fn: () => unknown) => {
    try { fn(); } catch (e) { return (e as { code?: string }).code; }
    return 'no error';
  };
  assert.is(code(() => nb.momentsBlock(f(6), rows, d, 0, f(3), f(9), f(3), null, f(3), f(3), f(8))), 'ERR_OUT_OF_RANGE'); // scratch < (rows + 1) d
  assert.is(code(() => nb.momentsBlock(f(6), rows, d, -1, f(3), f(9), f(3), null, f(3), f(3), f(9))), 'ERR_OUT_OF_RANGE');
  assert.is(code(() => nb.momentsBlock(f(6), rows, d, 0, f(3), f(8), f(3), null, f(3), f(3), f(9))), 'ERR_OUT_OF_RANGE');
  assert.is(code(() => nb.momentsBlock(new Int32Array(6) as unknown as Float64Array, rows, d, 0, f(3), f(9), f(3), null, f(3), f(3), f(9))), 'ERR_INVALID_ARG_TYPE');
  assert.is(code(() => nb.momentsBlock(new Float32Array(5), rows, d, 0, f(3), f(9), f(3), null, f(3), f(3), f(9))), 'ERR_OUT_OF_RANGE');
  assert.is(code(() => nb.scaledUnitRows([0, 0, 0, 0, 0, 0] as unknown as Float64Array, rows, d, f(3), f(3))), 'ERR_INVALID_ARG_TYPE');
  assert.is(code(() => nb.projectF32(f(6), rows, d, f(3), new Float32Array(6), 2, new Float32Array(6), new Float32Array(3))), 'ERR_OUT_OF_RANGE');
  assert.is(code(() => nb.projectF32(f(6), rows, d, f(3), f(6) as unknown as Float32Array, 2, new Float32Array(6), new Float32Array(4))), 'ERR_INVALID_ARG_TYPE');
  assert.is(code(() => nb.logSumExpF32(new Float32Array(4), 2, 2, f(2), f(2), f(2), f(2), f(2), f(11))), 'ERR_OUT_OF_RANGE');
  assert.is(code(() => nb.unitRowsF32(new Float32Array(4), 2, 2, f(2), 1, 2, f(2), null)), 'ERR_OUT_OF_RANGE');
  assert.is(code(() => nb.scaledUnitRows(f(6), rows, d, f(2), f(3))), 'ERR_OUT_OF_RANGE');
  assert.is(code(() => nb.zeroRows(f(6), rows, d, new Uint8Array(1))), 'ERR_OUT_OF_RANGE');
  // a clean call works
  const flags = new Uint8Array(2);
  nb.zeroRows(Float64Array.of(0, 0, 0, 1, 0, 0), rows, d, flags);
  assert.equal(Array.from(flags), [1, 0]);
});

test('native syevd: values from the two-stage reduction (d >= 2048) equal the one-stage ones', () => {
  const nb = loadNative();
  if (!nb) return;
  const d = 2048;
  const x = anisotropic(d + 10, 8, 3);
  // a symmetric matrix with a spread spectrum: B^T B for a random B, plus a diagonal
  const m = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      let s = 0;
      for (let k = 0; k < 8; k++) s += x[i * 8 + k] * x[j * 8 + k];
      m[i * d + j] = s + (i === j ? 1 + i / d : 0);
    }
  }
  const two = nb.syevd(m, d, false).values;
  const one = nb.syevd(m, d, true).values;
  assert.ok(relErr(two, one) < 1e-12, `two-stage vs one-stage ${relErr(two, one)}`);
});

test.run();
