import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeInto, parseDtype } from '../../src/io/dtype.js';
import { openNpy, readEmbeddings } from '../../src/io/index.js';
import { buildNpy, collect, describeMismatch, makeTempDir, rejects, sameValues } from './helpers.js';

const tmp = makeTempDir();
test.after(() => tmp.cleanup());

let counter = 0;
function file(bytes: Uint8Array): string {
  return tmp.file(`f${counter++}.npy`, bytes);
}

function check(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.ok(sameValues(actual, expected), `${what}: ${describeMismatch(actual, expected)}`);
}

const FLOAT_VALUES = [0, -0, 1, -2, 0.5, -0.25, 1024, -65504, Infinity, -Infinity, NaN, 3.75];

for (const order of ['<', '>', '=']) {
  for (const size of [2, 4, 8]) {
    const descr = `${order}f${size}`;
    test(`${descr} decodes exactly`, async () => {
      const p = file(buildNpy({ descr, shape: [3, 4], values: FLOAT_VALUES }));
      const r = await readEmbeddings(p);
      assert.is(r.dtype, descr);
      assert.equal(r.notes, []);
      check(r.data, FLOAT_VALUES, descr);
      // Odd row counts per block exercise unaligned offsets into the scratch buffer.
      check(await collect(await openNpy(p), { blockRows: 1 }), FLOAT_VALUES, `${descr} blockRows=1`);
    });
  }
}

test('f4/f8 keep full precision', async () => {
  const f8 = [Math.PI, -Math.E, 1e-300, 1.7976931348623157e308, 5e-324, 0.1];
  check((await readEmbeddings(file(buildNpy({ descr: '<f8', shape: [2, 3], values: f8 })))).data, f8, '<f8');
  check((await readEmbeddings(file(buildNpy({ descr: '>f8', shape: [2, 3], values: f8 })))).data, f8, '>f8');
  const f4 = Array.from(new Float32Array([Math.PI, -Math.E, 1e-40, 3.4028234663852886e38, 1.401298464324817e-45, 0.1]));
  check((await readEmbeddings(file(buildNpy({ descr: '<f4', shape: [2, 3], values: f4 })))).data, f4, '<f4');
  check((await readEmbeddings(file(buildNpy({ descr: '>f4', shape: [2, 3], values: f4 })))).data, f4, '>f4');
});

test('f2 from raw bits: subnormals, extremes, inf, nan, -0', async () => {
  const cases: [number, number][] = [
    [0x0000, 0],
    [0x8000, -0],
    [0x0001, 2 ** -24], // smallest subnormal
    [0x03ff, 1023 * 2 ** -24], // largest subnormal
    [0x8001, -(2 ** -24)],
    [0x0400, 2 ** -14], // smallest normal
    [0x3c00, 1],
    [0x3555, 0.333251953125],
    [0xc000, -2],
    [0x7bff, 65504],
    [0xfbff, -65504],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
    [0x7e00, NaN],
    [0x7c01, NaN], // signalling NaN payload
    [0xfe00, NaN],
  ];
  for (const le of [true, false]) {
    const data = new Uint8Array(cases.length * 2);
    const dv = new DataView(data.buffer);
    cases.forEach(([bits], k) => dv.setUint16(k * 2, bits, le));
    const descr = le ? '<f2' : '>f2';
    const r = await readEmbeddings(file(buildNpy({ descr, shape: [4, 4], data })));
    check(r.data, cases.map(([, v]) => v), descr);
  }
});

const INT_CASES: Record<string, number[]> = {
  i1: [-128, -1, 0, 1, 127, 5],
  u1: [0, 1, 127, 128, 255, 7],
  i2: [-32768, -1, 0, 1, 32767, 300],
  u2: [0, 1, 32768, 65535, 256, 9],
  i4: [-2147483648, -1, 0, 1, 2147483647, 70000],
  u4: [0, 1, 2147483648, 4294967295, 65536, 11],
  i8: [-(2 ** 53), -1, 0, 1, 2 ** 53, 123456789012],
  u8: [0, 1, 2 ** 32, 2 ** 53, 2 ** 40 + 3, 13],
};

for (const [code, values] of Object.entries(INT_CASES)) {
  const orders = code.endsWith('1') ? ['|', '<', '>'] : ['<', '>'];
  for (const order of orders) {
    const descr = `${order}${code}`;
    test(`${descr} converts to float64 with a note`, async () => {
      const src = await openNpy(file(buildNpy({ descr, shape: [2, 3], values })));
      assert.is(src.dtype, descr);
      assert.ok(src.notes.some((n) => n.includes(`integer dtype ${descr} converted to float64`)), src.notes.join('; '));
      if (code.endsWith('8')) assert.ok(src.notes.some((n) => n.includes('2^53')));
      check(await collect(src), values, descr);
      check(await collect(src, { blockRows: 1 }), values, `${descr} blockRows=1`);
    });
  }
}

test('i8/u8 beyond 2^53 round to the nearest double', async () => {
  const big = [2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n, 5n];
  const r = await readEmbeddings(file(buildNpy({ descr: '<i8', shape: [2, 2], values: big })));
  check(r.data, [2 ** 63, -(2 ** 63), 2 ** 53, 5], '<i8');
  const ubig = [2n ** 64n - 1n, 0n];
  const u = await readEmbeddings(file(buildNpy({ descr: '>u8', shape: [1, 2], values: ubig })));
  check(u.data, [2 ** 64, 0], '>u8');
});

const REFUSED: [string, string[]][] = [
  ['|O', ['object arrays need pickle; isotropy never unpickles: save with np.save(path, arr.astype(np.float32))']],
  ['|b1', ['"|b1"', 'bool', 'astype']],
  ['<c8', ['"<c8"', 'complex']],
  ['<c16', ['"<c16"', 'complex']],
  ['|S10', ['"|S10"', 'strings']],
  ['<U5', ['"<U5"', 'strings']],
  ['<M8[ns]', ['"<M8[ns]"', 'datetime']],
  ['<m8[s]', ['"<m8[s]"', 'datetime']],
  ['|V8', ['"|V8"', 'void']],
  ['<f16', ['"<f16"', 'not supported', 'astype']],
  ['<i16', ['"<i16"', 'not supported', 'astype']],
  ['<g', ['"<g"', 'not supported', 'astype']],
  ['<q', ['"<q"', 'not supported', 'astype']],
  ['', ['""', 'not supported']],
];

for (const [descr, fragments] of REFUSED) {
  test(`dtype ${JSON.stringify(descr)} is refused`, async () => {
    const p = file(buildNpy({ descr, shape: [2, 2], data: new Uint8Array(64) }));
    const err = await rejects(openNpy(p), `${p}: `, ...fragments);
    assert.is(err.name, 'NpyError');
    assert.ok(err.message.startsWith(`${p}: `));
  });
}

test('decodeInto handles unaligned offsets and output strides for every dtype', () => {
  const values = [1, -2, 3, 4, 100, -5, 7]; // integers, so every dtype holds them exactly
  for (const order of ['<', '>']) {
    for (const descr of ['f2', 'f4', 'f8', 'i1', 'i2', 'i4', 'i8', 'u1', 'u2', 'u4', 'u8']) {
      const full = `${order}${descr}`;
      const vals = descr.startsWith('u') ? values.map(Math.abs) : values;
      const raw = buildNpy({ descr: full, shape: [vals.length], values: vals.map((v) => (descr.endsWith('8') && descr !== 'f8' ? BigInt(v * 4) : v)) });
      const expected = descr.endsWith('8') && descr !== 'f8' ? vals.map((v) => v * 4) : vals;
      const dataStart = raw.length - vals.length * Number(descr.slice(1));
      // Copy to offset 1 of a new buffer so every multi-byte element is misaligned.
      const shifted = new Uint8Array(raw.length + 1);
      shifted.set(raw, 1);
      const out = new Float64Array(vals.length * 3).fill(99);
      decodeInto(parseDtype(full), shifted, dataStart + 1, vals.length, out, 1, 3);
      const picked = Array.from({ length: vals.length }, (_, k) => out[1 + 3 * k]);
      check(picked, expected, full);
      assert.is(out[0], 99);
      assert.is(out[2], 99);
    }
  }
});

test.run();
