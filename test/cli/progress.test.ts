import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Progress } from '../../src/cli/progress.ts';

function sink() {
  const lines: string[] = [];
  return { lines, stream: { isTTY: false, write: (s: string) => { lines.push(s); return true; } } };
}

test('not a terminal: plain lines with rows, percent and time, not one per update', () => {
  const s = sink();
  const p = new Progress(true, s.stream as never, 0);
  for (let k = 1; k <= 100; k++) p.update('emb.npy pass 1/2', k * 10, 1000);
  p.done();
  assert.ok(s.lines.length >= 2 && s.lines.length <= 6, String(s.lines.length));
  assert.match(s.lines[0], /^emb\.npy pass 1\/2: 10\/1000 rows \(1%\), \d+\.\d s(, [\d.]+ rows\/s, ETA \d+ s)?\n$/);
  assert.match(s.lines[s.lines.length - 1], /1000\/1000 rows \(100%\)/);
});

test('quiet: nothing; and nothing during the first second by default', () => {
  const s = sink();
  new Progress(false, s.stream as never, 0).update('x', 1, 2);
  new Progress(true, s.stream as never).update('x', 1, 2);
  assert.equal(s.lines, []);
});

test.run();
