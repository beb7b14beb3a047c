// The two-round protocol from the command line (issue 15), and the shard files that merge must
// refuse in one line with exit 2 instead of printing NaN tables (issue 9).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeNpy } from '../../src/io/index.ts';
import { f64ToBase64 } from '../../src/stats/base64.ts';
import { compareAnalyses } from '../../scripts/compare-analyses.ts';
import { anisotropic } from '../helpers/random.ts';
import { makeTempDir } from '../io/helpers.ts';
import { isotropy, type Run } from './run.ts';

const tmp = makeTempDir();
test.after(() => tmp.cleanup());
const at = (name: string) => join(tmp.dir, name);
const ROWS = 611, D = 12;
const T = 'isobn,isobn-running,standardize,abtt';

function ok(r: Run): Run {
  assert.is(r.code, 0, r.stderr);
  return r;
}

/** exit 2, one line on stderr matching `pattern`, nothing on stdout (no table of NaN) */
function refused(r: Run, pattern: RegExp): void {
  assert.is(r.code, 2, r.stdout + r.stderr);
  assert.is(r.stdout, '');
  assert.match(r.stderr, /^isotropy: /);
  assert.is(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, pattern);
  assert.not.match(r.stderr, /internal error/);
}

const data = anisotropic(ROWS, D, 42);
await writeNpy(at('emb.npy'), new Float32Array(data), ROWS, D, { dtype: 'f4' });

test('round 1, reduce 1, round 2, reduce 2 from the command line: the analysis of analyze to 1e-10, and a report', () => {
  const flag = ['--out', '-o', '--save', '--out'];
  for (let i = 0; i < 4; i++) {
    const r = ok(isotropy('stats', at('emb.npy'), '--shard', `${i}/4`, '--transform', 'isobn-running', flag[i], at(`s_${i}.json`)));
    assert.match(r.stdout, new RegExp(`s_${i}\\.json: statistics of \\d+ rows x 12 dims`));
  }
  const shards = [0, 1, 2, 3].map((i) => at(`s_${i}.json`));
  const plan = ok(isotropy('merge', ...shards.reverse(), '--plan', at('plan.json'), '--transform', T, '-q'));
  assert.match(plan.stdout, /plan: .*plan\.json \(4 shard\(s\); round 2: isotropy stats SHARD --plan/);
  assert.match(plan.stdout, /^partitionIsotropy(\s+n\/a){5}$/m);
  for (let i = 0; i < 4; i++) {
    const r = ok(isotropy('stats', at('emb.npy'), '--shard', `${i}/4`, '--plan', at('plan.json'), '-o', at(`p_${i}.json`)));
    assert.match(r.stdout, /round-2 partial of \d+ rows for plan [0-9a-f]{12}/);
  }
  const partials = [3, 1, 0, 2].map((i) => at(`p_${i}.json`));
  const m = ok(isotropy('merge', '--plan', at('plan.json'), ...partials, '--json', '--out', at('merged.html')));
  assert.match(m.stderr, /report: .*merged\.html/);
  assert.ok(existsSync(at('merged.html')), 'the report');
  const merged = JSON.parse(m.stdout);
  const whole = JSON.parse(ok(isotropy('analyze', at('emb.npy'), '--transform', T, '--json', '--out', at('whole.html'), '-q')).stdout);
  const c = compareAnalyses(merged, whole);
  assert.ok(c.rel <= 1e-10, `${c.rel} at ${c.where}`);
  assert.ok(c.count > 150, `${c.count} numbers compared`);
  assert.equal(merged.diagnostics[0].pca.x, whole.diagnostics[0].pca.x);
  assert.equal(merged.inputs[0].shards.length, 4);
  // the table of round 2 has every metric
  const table = ok(isotropy('merge', '--plan', at('plan.json'), ...partials));
  assert.match(table.stdout, /^partitionIsotropy(\s+[0-9.e-]+){5}$/m);
  assert.match(table.stdout, /merged from 4 shard\(s\)/);
});

test('round 2 refuses what belongs to round 1, and partials mixed with statistics', () => {
  refused(isotropy('stats', at('emb.npy'), '--shard', '0/4', '--plan', at('plan.json'), '--transform', 'isobn'), /--transform belongs to round 1/);
  refused(isotropy('merge', '--plan', at('plan.json'), at('p_0.json'), at('p_1.json'), at('p_2.json'), at('p_3.json'), '--eps', '0.1'), /--eps: in round 2 the plan .* fixes the transforms/);
  refused(isotropy('merge', at('p_0.json'), at('s_0.json')), /p_0\.json is a round-2 partial and .*s_0\.json is not/);
  refused(isotropy('merge', at('p_0.json')), /give the plan it was made with \(--plan PLAN\)/);
  refused(isotropy('merge', '--plan', at('plan.json'), at('p_0.json'), at('p_0.json'), at('p_2.json'), at('p_3.json')), /are partials of the same shard/);
  refused(isotropy('stats', at('emb.npy'), '--out', at('emb.npy')), /is one of the inputs/);
  refused(isotropy('merge', at('s_0.json'), at('s_1.json')), /the shards hold \d+ of its 611 rows; missing part\(s\) 2\/4, 3\/4/);
  const some = ok(isotropy('merge', at('s_0.json'), at('s_1.json'), '--allow-missing', '--save', at('s_01.json')));
  assert.match(some.stderr, /warning: .*only some rows are merged/);
  ok(isotropy('merge', at('s_01.json'), at('s_2.json'), at('s_3.json'), '-q'));
  refused(isotropy('merge', at('s_01.json'), at('s_1.json'), at('s_2.json'), at('s_3.json')), /hold the same shard/);
});

/** s_0.json with some fields replaced (float64 arrays given as numbers). */
function damaged(name: string, fields: Record<string, unknown>): string {
  const j = JSON.parse(readFileSync(at('s_0.json'), 'utf8'));
  for (const [k, v] of Object.entries(fields)) j[k] = Array.isArray(v) && typeof v[0] === 'number' ? f64ToBase64(Float64Array.from(v as number[])) : v;
  writeFileSync(at(name), JSON.stringify(j));
  return at(name);
}

test('merge refuses damaged shards in one line: NaN/Inf moments, bad base64, count 1e308, zeroRows > count, sources [null], a NUL byte in a name', () => {
  const j = JSON.parse(readFileSync(at('s_0.json'), 'utf8'));
  const bytes = Buffer.from(j.mean, 'base64');
  const mean = Array.from({ length: D }, (_, i) => bytes.readDoubleLE(8 * i));
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['nan.json', { mean: [NaN, ...mean.slice(1)] }, /nan\.json: damaged statistics file: mean holds NaN at index 0/],
    ['inf.json', { unitSum: [Infinity, ...mean.slice(1)] }, /inf\.json: damaged statistics file: unitSum holds Infinity/],
    ['b64.json', { comoment: `!${j.comoment.slice(1)}` }, /b64\.json: damaged statistics file: comoment is not valid base64/],
    ['big.json', { count: 1e308 }, /big\.json: damaged statistics file: count must be a whole number >= 0, found "1e\+308"/],
    ['zero.json', { zeroRows: j.count + 1 }, /zero\.json: damaged statistics file: zeroRows must be a whole number from 0 to \d+/],
    ['null.json', { sources: [null] }, /null\.json: damaged statistics file: sources\[0\] must be an object, found "null"/],
    ['nul.json', { sources: [{ ...j.sources[0], path: 'emb\u0000.npy' }] }, /nul\.json: damaged statistics file: sources\[0\]\.path must be a non-empty name without control characters, found "emb\\u0000\.npy"/],
  ];
  for (const [name, fields, pattern] of cases) {
    const f = damaged(name, fields);
    refused(isotropy('merge', f, at('s_1.json'), at('s_2.json'), at('s_3.json'), ...(name === 'nan.json' ? ['--plan', at('never.json')] : [])), pattern);
  }
  assert.not.ok(existsSync(at('never.json')), 'no plan from damaged shards');
});

test('the same shard twice is refused, not counted twice', () => {
  refused(isotropy('merge', at('s_0.json'), at('s_1.json'), at('s_2.json'), at('s_3.json'), at('s_1.json')), /s_1\.json and .*s_1\.json hold identical statistics: the same rows given twice/);
  writeFileSync(at('s_1-copy.json'), readFileSync(at('s_1.json')));
  refused(isotropy('merge', at('s_0.json'), at('s_1.json'), at('s_1-copy.json'), at('s_2.json'), at('s_3.json')), /hold identical statistics/);
});

test.run();
