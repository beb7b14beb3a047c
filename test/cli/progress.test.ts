import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Progress } from '../../src/cli/progress.ts';

function sink() {
  const lines: string[] = [];
  return { lines, stream: { isTTY: false, write: (s: string) => { lines.push(s); return true; } } };
}

/** A clock the test moves: no assertion depends on how fast the machine is. */
function fakeClock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => { t += ms; } };
}

test('not a terminal: plain lines with rows, percent and time, not one per update', () => {
  const s = sink();
  const clock = fakeClock();
  const p = new Progress(true, s.stream as never, 0, 'rows', clock.now);
  for (let k = 1; k <= 100; k++) { clock.advance(10); p.update('emb.npy pass 1/2', k * 10, 1000); }
  p.done();
  // the first update, each 25% boundary, and the last
  assert.is(s.lines.length, 5, s.lines.join(''));
  assert.match(s.lines[0], /^emb\.npy pass 1\/2: 10\/1000 rows \(1%\), \d+\.\d s(, [\d.]+ rows\/s, ETA \d+ s)?\n$/);
  assert.match(s.lines[s.lines.length - 1], /1000\/1000 rows \(100%\)/);
});

test('quiet: nothing; and nothing during the first second by default', () => {
  const s = sink();
  new Progress(false, s.stream as never, 0).update('x', 1, 2);
  const clock = fakeClock();
  const p = new Progress(true, s.stream as never, undefined, 'rows', clock.now);
  clock.advance(999);
  p.update('x', 1, 2);
  assert.equal(s.lines, []);
  clock.advance(2);
  p.update('x', 2, 2);
  assert.is(s.lines.length, 1);
});

test('a plain line at most every 5 s within a quarter, whatever the update rate', () => {
  const s = sink();
  const clock = fakeClock();
  const p = new Progress(true, s.stream as never, 0, 'rows', clock.now);
  p.update('x', 1, 1000);
  for (let k = 2; k < 240; k++) { clock.advance(1000); p.update('x', k, 1000); }
  // 238 s within the first quarter: one line per 5 s (pct changes each 10 rows, i.e. 10 s)
  assert.ok(s.lines.length >= 20 && s.lines.length <= 25, String(s.lines.length));
});

test.run();
