import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { NpyError, parseNpyHeader } from '../../src/io/index.js';
import { buildNpy } from './helpers.js';

function headerOf(header: string, version: 1 | 2 | 3 = 1): Uint8Array {
  return buildNpy({ descr: '<f4', shape: [1, 1], header, data: new Uint8Array(4), version });
}

function throwsWith(fn: () => unknown, ...fragments: string[]): NpyError {
  try {
    fn();
  } catch (err) {
    assert.instance(err, NpyError);
    const e = err as NpyError;
    for (const f of fragments) assert.ok(e.message.includes(f), `${JSON.stringify(e.message)} lacks ${JSON.stringify(f)}`);
    return e;
  }
  throw new Error('expected a throw');
}

test('parses a standard numpy header', () => {
  const bytes = buildNpy({ descr: '<f4', shape: [100, 768], data: new Uint8Array(0) });
  const h = parseNpyHeader(bytes, 'x.npy');
  assert.equal(h.version, [1, 0]);
  assert.is(h.descr, '<f4');
  assert.is(h.fortranOrder, false);
  assert.equal(h.shape, [100, 768]);
  assert.is(h.dataOffset, 64 * Math.ceil(h.dataOffset / 64));
  assert.is(h.dataOffset, bytes.length);
});

test('keys in any order, extra spaces, double quotes, no trailing comma', () => {
  const h = parseNpyHeader(headerOf(`{  "shape" :( 3 ,4 ) ,'fortran_order'  :True,   "descr":"<f8"}`));
  assert.is(h.descr, '<f8');
  assert.is(h.fortranOrder, true);
  assert.equal(h.shape, [3, 4]);
});

test('tuples: (5,), (), Python 2 long suffix', () => {
  assert.equal(parseNpyHeader(headerOf(`{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }`)).shape, [5]);
  assert.equal(parseNpyHeader(headerOf(`{'descr': '<f4', 'fortran_order': False, 'shape': (), }`)).shape, []);
  assert.equal(parseNpyHeader(headerOf(`{'descr': '<f4', 'fortran_order': False, 'shape': (3L, 4L), }`)).shape, [3, 4]);
});

test('versions 2.0 and 3.0 (utf8) use a 4-byte length', () => {
  const v2 = parseNpyHeader(headerOf(`{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`, 2));
  assert.equal(v2.version, [2, 0]);
  assert.is(v2.dataOffset % 64, 0);
  const v3 = parseNpyHeader(headerOf(`{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'note': 'héllo ☃'}`, 3));
  assert.equal(v3.version, [3, 0]);
  assert.equal(v3.shape, [2, 3]);
});

test('hostile or malformed headers are refused as unparseable, never evaluated', () => {
  const evil = `{'descr': __import__('os').system('touch /tmp/pwned'), 'fortran_order': False, 'shape': (1, 1)}`;
  throwsWith(() => parseNpyHeader(headerOf(evil), 'evil.npy'), 'evil.npy: ', 'unparseable', '__import__');
  for (const bad of [
    `{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1)} + 1`,
    `{'descr': '<f4', 'fortran_order': False, 'shape': (1.5, 1)}`,
    `{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1)`,
    `{'descr': '<f4 , 'fortran_order': False, 'shape': (1, 1)}`,
    `{'descr': '<f4', 'fortran_order': false, 'shape': (1, 1)}`,
    `{descr: '<f4', 'fortran_order': False, 'shape': (1, 1)}`,
    `lambda: 0`,
    `['descr', '<f4']`,
  ]) {
    throwsWith(() => parseNpyHeader(headerOf(bad), 'bad.npy'), 'bad.npy: ', 'unparseable');
  }
});

test('missing keys and wrong value types', () => {
  throwsWith(() => parseNpyHeader(headerOf(`{'descr': '<f4', 'shape': (1, 1)}`), 'm.npy'), 'm.npy: ', "missing key 'fortran_order'");
  throwsWith(() => parseNpyHeader(headerOf(`{'descr': '<f4', 'fortran_order': False, 'shape': [1, 1]}`), 'm.npy'), 'shape');
  throwsWith(() => parseNpyHeader(headerOf(`{'descr': '<f4', 'fortran_order': False, 'shape': (5)}`), 'm.npy'), 'shape');
  throwsWith(() => parseNpyHeader(headerOf(`{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 3)}`), 'm.npy'), 'negative');
  throwsWith(() => parseNpyHeader(headerOf(`{'descr': 4, 'fortran_order': False, 'shape': (1, 3)}`), 'm.npy'), 'descr');
  throwsWith(() => parseNpyHeader(headerOf(`{'descr': '<f4', 'fortran_order': 1, 'shape': (1, 3)}`), 'm.npy'), 'fortran_order');
});

test('structured descr (a list) is refused with the fix', () => {
  throwsWith(
    () => parseNpyHeader(headerOf(`{'descr': [('a', '<f4'), ('b', '<i4', (3,))], 'fortran_order': False, 'shape': (2,), }`), 's.npy'),
    's.npy: ',
    'structured arrays are not supported: save a plain 2-D float array',
  );
});

test('bad magic, zip, pickle, bad version, header past the end', () => {
  throwsWith(() => parseNpyHeader(new TextEncoder().encode('hello world, not numpy'), 'a.txt'), 'a.txt: ', 'not a .npy file (bad magic)');
  throwsWith(() => parseNpyHeader(Uint8Array.of(0x50, 0x4b, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0), 'e.npz'), 'e.npz: ', "np.load(f)['name']");
  throwsWith(() => parseNpyHeader(Uint8Array.of(0x80, 4, 0x95, 0, 0, 0, 0, 0, 0, 0, 0, 0), 'p.pkl'), 'p.pkl: ', 'not a .npy file', 'pickle');
  const good = headerOf(`{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }`);
  const v9 = good.slice();
  v9[6] = 9;
  throwsWith(() => parseNpyHeader(v9, 'v.npy'), 'v.npy: ', 'version 9.0');
  throwsWith(() => parseNpyHeader(good.subarray(0, 30), 't.npy'), 't.npy: ', 'past the end');
  throwsWith(() => parseNpyHeader(good.subarray(0, 9), 't.npy'), 't.npy: ', 'truncated');
});

test('without a path the message has no prefix', () => {
  const e = throwsWith(() => parseNpyHeader(new Uint8Array(20)), 'bad magic');
  assert.ok(e.message.startsWith('not a .npy file'));
  assert.is(e.name, 'NpyError');
  assert.is(e.isUserError, true);
});

test.run();
