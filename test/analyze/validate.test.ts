// A saved analysis is checked before anything renders it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { analyze } from '../../src/analyze/analyze.ts';
import { checkAnalysis } from '../../src/analyze/validate.ts';
import { matrixSource } from '../../src/io/memory-source.ts';
import { anisotropic } from '../helpers/random.ts';

const good = JSON.parse(JSON.stringify(await analyze([matrixSource(anisotropic(60, 4, 1), 60, 4)], { transforms: 'isobn,whiten', onePass: true })));

function fails(mutate: (a: any) => unknown, re: RegExp): void {
  const a = structuredClone(good);
  const replaced = mutate(a);
  try {
    checkAnalysis(replaced === undefined ? a : replaced, 'a.json');
  } catch (e) {
    assert.is((e as { isUserError?: boolean }).isUserError, true);
    assert.match((e as Error).message, /^a\.json: /);
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`accepted: ${re}`);
}

test('checkAnalysis: accepts what analyze writes, with and without diagnostics', () => {
  assert.is(checkAnalysis(good, 'a.json'), good);
  const bare = structuredClone(good);
  delete bare.diagnostics;
  assert.ok(checkAnalysis(bare, 'a.json'));
});

test('checkAnalysis: names the first problem', () => {
  fails(() => [1, 2], /not a JSON object/);
  fails(() => ({ schema: 'isotropy.stats/v1' }), /schema "isotropy.stats\/v1" is not isotropy.analysis\/v1/);
  fails((a) => { a.inputs = []; }, /"inputs" is missing or empty/);
  fails((a) => { a.results[1].input = 3; }, /results\[1\] lacks a valid input/);
  fails((a) => { delete a.results[0].spectrum; }, /results\[0\] lacks its metrics/);
  fails((a) => { a.diagnostics.pop(); }, /one entry per result/);
  fails((a) => { a.diagnostics[1].transform = 'whiten'; }, /diagnostics\[1\] does not match results\[1\]/);
  fails((a) => { a.diagnostics[0].std = ['x']; }, /diagnostics\[0\]\.std/);
  fails((a) => { a.diagnostics[0].corrAbs.data = 'AAAA'; }, /wrong number of values/);
  fails((a) => { a.diagnostics[2].pca.y.pop(); }, /diagnostics\[2\]\.pca is malformed/);
  fails((a) => { a.diagnostics[0].corrHistogram.edges.pop(); }, /corrHistogram is malformed/);
});

test.run();
