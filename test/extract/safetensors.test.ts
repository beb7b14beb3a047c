import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readSafetensorsIndex, readTensor, type SafetensorsEntry } from '../../src/extract/safetensors.js';
import { ExtractError } from '../../src/extract/types.js';
import { gaussian } from '../helpers/random.js';
import { buildSafetensors, fromBf16Bits, rejects, safetensorsBytes, storedValues, tempDir, toBf16Bits, toHalfBits, writeSafetensors } from './st-helpers.js';

const tmp = tempDir('st');
test.after(() => tmp.cleanup());

let counter = 0;
function file(bytes: Uint8Array): string {
  const p = tmp.path(`f${counter++}.safetensors`);
  writeFileSync(p, bytes);
  return p;
}

/** NaN-aware, sign-of-zero-aware equality of two float arrays. */
function same(actual: Float32Array, expected: ArrayLike<number>, what: string): void {
  assert.is(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) assert.unreachable(`${what}[${i}]: got ${actual[i]}, expected ${expected[i]}`);
  }
}

async function readAll(path: string): Promise<Map<string, { entry: SafetensorsEntry; data: Float32Array }>> {
  const { entries } = await readSafetensorsIndex(path);
  const out = new Map<string, { entry: SafetensorsEntry; data: Float32Array }>();
  for (const e of entries) out.set(e.name, { entry: e, data: (await readTensor(e)).data });
  return out;
}

const F16_EXACT = [0, -0, 1, -2, 0.5, 1.5, 1 + 2 ** -10, 65504, -65504, 2 ** -14, 2 ** -24, 3 * 2 ** -24, 1023 * 2 ** -24, Infinity, -Infinity, NaN];
const BF16_EXACT = [0, -0, 1, -1, 1 + 2 ** -7, 2 ** -126, 2 ** -133, 5 * 2 ** -133, fromBf16Bits(0x7f7f), Infinity, -Infinity, NaN, 3.140625];

test('the test encoders produce the documented bit patterns', () => {
  assert.is(toHalfBits(1), 0x3c00);
  assert.is(toHalfBits(-2), 0xc000);
  assert.is(toHalfBits(65504), 0x7bff);
  assert.is(toHalfBits(65520), 0x7c00);
  assert.is(toHalfBits(2 ** -24), 0x0001);
  assert.is(toHalfBits(2 ** -25), 0x0000); // halfway to zero rounds to even
  assert.is(toHalfBits(1 + 2 ** -11), 0x3c00); // halfway rounds to even
  assert.is(toHalfBits(-0), 0x8000);
  assert.is(toBf16Bits(1), 0x3f80);
  assert.is(toBf16Bits(-Infinity), 0xff80);
});

test('F32, F16, BF16 and F64 round trip, specials and subnormals included', async () => {
  const f32 = [0, -0, 1.5, -3.25, 1e-45, 3.4028234663852886e38, Infinity, -Infinity, NaN, Math.fround(0.1)];
  const f64 = [0.1, 1e300, -1e300, 1e-320, NaN, -0, 2.5];
  const p = file(
    buildSafetensors(
      {
        a32: { dtype: 'F32', shape: [2, 5], data: f32 },
        h16: { dtype: 'F16', shape: [F16_EXACT.length], data: F16_EXACT },
        b16: { dtype: 'BF16', shape: [BF16_EXACT.length], data: BF16_EXACT },
        d64: { dtype: 'F64', shape: [7, 1], data: f64 },
      },
      { format: 'pt', note: 'hi' },
    ),
  );
  const { metadata } = await readSafetensorsIndex(p);
  assert.equal(metadata, { format: 'pt', note: 'hi' });
  const got = await readAll(p);
  same(got.get('a32')!.data, f32.map(Math.fround), 'F32');
  same(got.get('h16')!.data, F16_EXACT, 'F16');
  same(got.get('b16')!.data, BF16_EXACT, 'BF16');
  same(got.get('d64')!.data, [Math.fround(0.1), Infinity, -Infinity, 0, NaN, -0, 2.5], 'F64 -> F32');
  assert.equal(got.get('a32')!.entry.shape, [2, 5]);
  assert.equal(got.get('d64')!.entry.shape, [7, 1]);
  assert.equal((await readTensor(got.get('a32')!.entry)).shape, [2, 5]);
});

test('F16 and BF16 of arbitrary values round to nearest even, as numpy/torch store them', async () => {
  const g = gaussian(5);
  const values = Float32Array.from({ length: 4000 }, (_, i) => g() * 10 ** ((i % 13) - 6));
  const p = file(
    buildSafetensors({
      h: { dtype: 'F16', shape: [4000], data: values },
      b: { dtype: 'BF16', shape: [40, 100], data: values },
    }),
  );
  const got = await readAll(p);
  same(got.get('h')!.data, storedValues('F16', values), 'F16');
  same(got.get('b')!.data, storedValues('BF16', values), 'BF16');
});

test('entries: absolute offsets, file order, scalars, empty tensors, unaligned data', async () => {
  const p = file(
    buildSafetensors({
      z: { dtype: 'F32', shape: [2, 3], data: [1, 2, 3, 4, 5, 6] },
      odd: { dtype: 'F16', shape: [3], data: [1, 2, 3] }, // leaves the next tensor 2 bytes off 4-byte alignment
      after: { dtype: 'F32', shape: [2], data: [7.5, -8] },
      scalar: { dtype: 'F32', shape: [], data: [42] },
      empty: { dtype: 'F32', shape: [0, 4], data: [] },
    }),
  );
  const { entries } = await readSafetensorsIndex(p);
  assert.equal(
    entries.map((e) => e.name),
    ['z', 'odd', 'after', 'scalar', 'empty'],
  );
  const bytes = readFileSync(p);
  const dataStart = 8 + Number(bytes.readBigUInt64LE(0));
  assert.is(entries[0].begin, dataStart);
  assert.is(entries[0].end, dataStart + 24);
  assert.is(entries[2].begin % 4, 2);
  assert.is(bytes.readFloatLE(entries[2].begin), 7.5);
  for (const e of entries) assert.is(e.file, p);
  const got = await readAll(p);
  same(got.get('after')!.data, [7.5, -8], 'unaligned F32');
  same(got.get('scalar')!.data, [42], 'scalar');
  assert.is(got.get('empty')!.data.length, 0);
});

test('non-float tensors are refused when read, not when indexed', async () => {
  const p = file(
    buildSafetensors({
      ids: { dtype: 'I64', shape: [1, 3], data: [0, 1, 2] },
      mask: { dtype: 'U8', shape: [3], data: [1, 1, 0] },
      w: { dtype: 'F32', shape: [1], data: [1] },
    }),
  );
  const { entries } = await readSafetensorsIndex(p);
  const ids = entries.find((e) => e.name === 'ids')!;
  const err = await rejects(readTensor(ids), p, 'tensor "ids" has dtype "I64"; only float tensors are weights');
  assert.ok(err instanceof ExtractError);
  await rejects(readTensor(entries.find((e) => e.name === 'mask')!), 'dtype "U8"');
});

const goodHeader = { w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
const eightBytes = new Uint8Array(8);

const corrupt: Array<[string, Uint8Array, string[]]> = [
  ['shorter than 8 bytes', new Uint8Array(5), ['only 5 bytes long', 're-download']],
  ['header length 0', safetensorsBytes('', eightBytes, 0), ['header length is 0', 're-download']],
  ['header length over 100 MB', safetensorsBytes(goodHeader, eightBytes, 200_000_000), ['over the 100 MB limit']],
  ['header length past the end', safetensorsBytes(goodHeader, eightBytes, 5000), ['header length 5000 bytes runs past the end of the file', 'truncated', 're-download']],
  ['header length 2^63', safetensorsBytes(goodHeader, eightBytes, 2n ** 63n), ['over the 100 MB limit']],
  ['bad JSON', safetensorsBytes('{"w": {"dtype": "F32",', eightBytes), ['header is not valid JSON', 're-download']],
  ['invalid UTF-8', safetensorsBytes('{"\u00e9":1}', eightBytes, undefined).map((b, i) => (i === 10 ? 0xff : b)), ['not valid UTF-8']],
  ['JSON array', safetensorsBytes('[1, 2]', eightBytes), ['not an object']],
  ['JSON null', safetensorsBytes('null', eightBytes), ['not an object']],
  ['entry not an object', safetensorsBytes({ w: 3 }, eightBytes), ['tensor "w": entry is not an object']],
  ['unknown dtype', safetensorsBytes({ w: { dtype: 'F12', shape: [2], data_offsets: [0, 8] } }, eightBytes), ['tensor "w" has unknown dtype "F12"']],
  ['negative dim', safetensorsBytes({ w: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, eightBytes), ['shape "[-2]" is not a list of non-negative integers']],
  ['fractional dim', safetensorsBytes({ w: { dtype: 'F32', shape: [1.5], data_offsets: [0, 8] } }, eightBytes), ['not a list of non-negative integers']],
  ['three offsets', safetensorsBytes({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 4, 8] } }, eightBytes), ['data_offsets "[0,4,8]" is not a pair of integers']],
  ['offsets reversed', safetensorsBytes({ w: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } }, eightBytes), ['data_offsets [8, 0] are not in order']],
  ['negative offset', safetensorsBytes({ w: { dtype: 'F32', shape: [0], data_offsets: [-4, -4] } }, eightBytes), ['are not in order']],
  ['past the data', safetensorsBytes({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, eightBytes), ['tensor "w" ends at data byte 16, past the end of the data (8 bytes)', 'truncated']],
  ['size mismatch', safetensorsBytes({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, eightBytes), ['tensor "w": holds 8 bytes but shape [3] of F32 needs 12']],
  [
    'overlap',
    safetensorsBytes(
      {
        a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        b: { dtype: 'F16', shape: [2], data_offsets: [12, 16] },
        c: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
      },
      new Uint8Array(16),
    ),
    ['tensors "a" (data bytes 0-8) and "c" (data bytes 4-12) overlap', 're-download'],
  ],
  [
    'overlap across an empty tensor',
    safetensorsBytes(
      {
        a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
        e: { dtype: 'F32', shape: [0], data_offsets: [4, 4] },
        b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
      },
      new Uint8Array(16),
    ),
    ['tensors "a" (data bytes 0-16) and "e" (data bytes 4-4) overlap'],
  ],
  ['metadata not strings', safetensorsBytes({ __metadata__: { n: 3 }, ...goodHeader }, eightBytes), ['__metadata__."n" is not a string']],
  ['metadata not an object', safetensorsBytes({ __metadata__: 'x', ...goodHeader }, eightBytes), ['__metadata__ is not an object']],
];

for (const [what, bytes, fragments] of corrupt) {
  test(`refused before reading data: ${what}`, async () => {
    const p = file(bytes);
    const err = await rejects(readSafetensorsIndex(p), `${p}: `, ...fragments);
    assert.ok(err instanceof ExtractError, 'an ExtractError');
    assert.is((err as ExtractError).isUserError, true);
  });
}

test('valid edge cases are accepted: empty tensors at tensor boundaries, no metadata, only metadata', async () => {
  const withEmpty = file(
    safetensorsBytes(
      {
        a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        e: { dtype: 'F32', shape: [0], data_offsets: [8, 8] },
        b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] },
        z: { dtype: 'F16', shape: [0, 3], data_offsets: [16, 16] },
      },
      new Uint8Array(16),
    ),
  );
  assert.equal(
    (await readSafetensorsIndex(withEmpty)).entries.map((e) => e.name),
    ['a', 'e', 'b', 'z'],
  );
  const onlyMeta = file(safetensorsBytes({ __metadata__: { format: 'pt' } }));
  assert.equal(await readSafetensorsIndex(onlyMeta), { entries: [], metadata: { format: 'pt' } });
});

test('the tensors must tile the data exactly: gaps, a late start, trailing or missing bytes are refused', async () => {
  const two = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } };
  await rejects(
    readSafetensorsIndex(file(safetensorsBytes({ a: two.a, b: { ...two.b, data_offsets: [12, 16] } }, new Uint8Array(16)))),
    'tensor "b" (data bytes 12-16) does not start right after tensor "a" (data bytes 0-8): 4 byte(s) in between belong to no tensor',
  );
  await rejects(
    readSafetensorsIndex(file(safetensorsBytes({ b: { ...two.b, data_offsets: [4, 8] } }, new Uint8Array(8)))),
    'does not start right after the start of the data',
  );
  await rejects(
    readSafetensorsIndex(file(safetensorsBytes(two, new Uint8Array(13)))),
    'the header describes 12 data bytes but the file holds 13',
    'the file has 1 byte(s) more than the tensors account for',
    're-download',
  );
});

test('a header length one byte short (the JSON still parses thanks to its padding) is refused, not read shifted', async () => {
  const good = buildSafetensors({ w: { dtype: 'F32', shape: [4], data: [1, 2, 3, 4] }, v: { dtype: 'F32', shape: [3], data: [5, 6, 7] } });
  const headerLen = Number(Buffer.from(good).readBigUInt64LE(0));
  assert.is(Buffer.from(good).subarray(8 + headerLen - 1, 8 + headerLen).toString(), ' ', 'the last header byte is padding');
  for (const delta of [-1, -2]) {
    const bad = Buffer.from(good);
    bad.writeBigUInt64LE(BigInt(headerLen + delta), 0);
    const p = file(bad);
    await rejects(readSafetensorsIndex(p), `${p}: the header describes 28 data bytes but the file holds ${28 - delta}`, 'wrong header length');
  }
  // One byte long is caught by the JSON itself (a stray byte after the object).
  const long = Buffer.from(good);
  long.writeBigUInt64LE(BigInt(headerLen + 1), 0);
  await rejects(readSafetensorsIndex(file(long)), 'header is not valid JSON');
});

test('huge header values are quoted briefly: a 20,000-entry shape, a 10 MB dtype, a 1 MB tensor name', async () => {
  const long: Array<[string, object]> = [
    ['shape', { w: { dtype: 'F32', shape: [...new Array(20_000).fill(1), -1], data_offsets: [0, 8] } }],
    ['valid shape, wrong size', { w: { dtype: 'F32', shape: new Array(20_000).fill(1), data_offsets: [0, 8] } }],
    ['dtype', { w: { dtype: 'F'.repeat(10_000_000), shape: [2], data_offsets: [0, 8] } }],
    ['name', { ['n'.repeat(1_000_000)]: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }],
    ['metadata key', { __metadata__: { ['k'.repeat(1_000_000)]: 1 }, ...goodHeader }],
    ['offsets', { w: { dtype: 'F32', shape: [2], data_offsets: new Array(20_000).fill(0) } }],
  ];
  for (const [what, header] of long) {
    const p = file(safetensorsBytes(header, eightBytes));
    const err = await rejects(readSafetensorsIndex(p), `${p}: `);
    assert.ok(err.message.length < p.length + 400, `${what}: a message of ${err.message.length} characters`);
    assert.not.match(err.message, /\n/);
  }
});

test('missing file and folder', async () => {
  await rejects(readSafetensorsIndex(tmp.path('nope.safetensors')), 'nope.safetensors: no such file');
  await rejects(readSafetensorsIndex(tmp.dir), 'is a folder');
});

test('a file truncated after indexing fails on read with a clear message', async () => {
  const p = tmp.path('trunc.safetensors');
  writeSafetensors(p, { w: { dtype: 'F32', shape: [100], data: new Float32Array(100) } });
  const { entries } = await readSafetensorsIndex(p);
  writeFileSync(p, readFileSync(p).subarray(0, entries[0].begin + 40));
  await rejects(readTensor(entries[0]), p, 'truncated', 're-download');
});

test.run();
