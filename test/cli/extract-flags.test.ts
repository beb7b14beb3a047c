// extract names its backends as analyze does (auto, tfjs-node, wasm, js; the old tensorflow and
// cpu still work) and takes -o like every command. The forward pass itself is tested in test/extract.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeTempDir } from '../io/helpers.ts';
import { isotropy } from './run.ts';

const tmp = makeTempDir();
test.after(() => tmp.cleanup());
const input = tmp.file('s.txt', new TextEncoder().encode('The cat sat.\nHello there.\n'));

test('extract --backend js -o: the analyze names, printed back the same way', () => {
  const out = join(tmp.dir, 'e.npy');
  const r = isotropy('extract', '--model', 'fixtures/models/tiny-bert', '--input', input, '-o', out, '--backend', 'js', '--threads', '1');
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /backend js x1/);
  assert.match(r.stderr, /^backend: js, 1 thread\(s\)$/m);
  assert.is(JSON.parse(readFileSync(join(tmp.dir, 'e.json'), 'utf8')).backend, 'cpu');
  const old = isotropy('extract', '--model', 'fixtures/models/tiny-bert', '--input', input, '--out', join(tmp.dir, 'f.npy'), '--backend', 'cpu', '--threads', '1', '-q');
  assert.is(old.code, 0, old.stderr);
  assert.equal(readFileSync(out), readFileSync(join(tmp.dir, 'f.npy')));
});

test('extract --backend cuda: refused with the choices, named as analyze names them', () => {
  const r = isotropy('extract', '--model', 'fixtures/models/tiny-bert', '--input', input, '-o', join(tmp.dir, 'g.npy'), '--backend', 'cuda');
  assert.is(r.code, 2);
  assert.match(r.stderr, /Invalid values:.*Argument: backend, Given: "cuda", Choices: "auto", "native", "tfjs-node", "wasm", "js"/s);
});

test.run();
