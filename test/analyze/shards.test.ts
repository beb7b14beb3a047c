// The two-round sharded analysis (issue 15): statistics per shard, a plan, partials per shard, and
// the reduce equal `analyze` on all the rows for every metric and transform; duplicated, missing,
// overlapping and foreign pieces are refused.
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { analyze } from '../../src/analyze/analyze.ts';
import type { Analysis } from '../../src/analyze/schema.ts';
import { analyzePlan } from '../../src/analyze/shard-reduce.ts';
import { computePartial, partialFromJSON, partialToJSON, type ShardPartial } from '../../src/analyze/shard-partial.ts';
import { planFromJSON, planShards, planToJSON, type ShardPlan } from '../../src/analyze/shard-plan.ts';
import { analyzeShards, computeShard, mergeShards, shardFromJSON, shardToJSON, type Shard } from '../../src/analyze/shards.ts';
import { shardRange } from '../../src/analyze/shard-id.ts';
import { writeNpy } from '../../src/io/npy-writer.ts';
import { unavailableReason } from '../../src/linalg/backends/select.ts';
import { StatsError } from '../../src/stats/errors.ts';
import { compareAnalyses } from '../../scripts/compare-analyses.ts';
import { makeTempDir, rejects } from '../io/helpers.ts';
import { anisotropic } from '../helpers/random.ts';

const tmp = makeTempDir();
test.after(() => tmp.cleanup());

const ALL = 'isobn,isobn-running,standardize,whiten,abtt';
const D = 9;
const js = { backend: 'js', threads: 1 } as const;

/** Writes rows x D rows (float64) to a file in the temp folder; `edit` changes them first. */
async function file(name: string, rows: number, seed: number, edit: (x: Float64Array) => void = () => undefined): Promise<string> {
  const x = anisotropic(rows, D, seed);
  edit(x);
  const path = join(tmp.dir, name);
  await writeNpy(path, x, rows, D, { dtype: 'f8' });
  return path;
}

/** Every value through its JSON text, as between machines. */
const wire = <T>(v: T): unknown => JSON.parse(JSON.stringify(v));

interface Piece { file: string; shard?: string }

async function round1(pieces: Piece[], opts: { transforms?: string; dropNonfinite?: boolean; batchSize?: number; backend?: string } = {}): Promise<Shard[]> {
  const out: Shard[] = [];
  for (const p of pieces) out.push(shardFromJSON(wire(shardToJSON(await computeShard(p.file, { ...js, ...opts, shard: p.shard })))));
  return out;
}

async function round2(pieces: Piece[], plan: ShardPlan, backend = 'js'): Promise<ShardPartial[]> {
  const out: ShardPartial[] = [];
  for (const p of pieces) out.push(partialFromJSON(wire(partialToJSON(await computePartial(p.file, plan, { backend, threads: 1, shard: p.shard }))), plan));
  return out;
}

/** Both rounds and both reduces, every object through JSON. */
async function twoRounds(pieces: Piece[], opts: { transforms: string; dropNonfinite?: boolean; batchSize?: number; backend?: string }): Promise<Analysis> {
  const labels = pieces.map((_, k) => `s_${k}.json`);
  const shards = await round1(pieces, opts);
  const { plan } = await planShards(shards, labels, { transforms: opts.transforms, batchSize: opts.batchSize, backend: opts.backend ?? 'js' });
  const back = planFromJSON(wire(planToJSON(plan)));
  assert.is(back.id, plan.id);
  const partials = await round2(pieces, back, opts.backend);
  return analyzePlan(back, partials, labels.map((l) => l.replace('s_', 'p_')), { backend: opts.backend ?? 'js' });
}

/** Asserts that two analyses agree to 1e-10 on every metric, and on the report's arrays of the non-degenerate views. */
function agree(got: Analysis, want: Analysis, tol = 1e-10): void {
  const r = compareAnalyses(got, want);
  assert.ok(r.count > 50, `compared ${r.count} numbers`);
  assert.ok(r.rel <= tol, `largest relative difference ${r.rel} at ${r.where}`);
  assert.is(got.inputs[0].rows, want.inputs[0].rows);
  assert.is(got.inputs[0].droppedRows, want.inputs[0].droppedRows);
  assert.is(got.inputs[0].zeroRows, want.inputs[0].zeroRows);
  assert.equal(got.samples, want.samples);
  got.diagnostics!.forEach((g, k) => {
    const w = want.diagnostics![k];
    // Whitened rows have covariance I: every axis is principal, so their scatter is arbitrary.
    if (g.transform === 'whiten') return;
    // coordinates are rounded to 5 digits, so they match exactly; the variance shares to rounding
    assert.equal([g.pca!.x, g.pca!.y], [w.pca!.x, w.pca!.y], `${g.transform} PCA scatter`);
    g.pca!.variance.forEach((v, i) => assert.ok(Math.abs(v - w.pca!.variance[i]) < 1e-12, `${g.transform} PCA variance`));
    assert.equal(g.corrHistogram, w.corrHistogram, `${g.transform} correlation histogram`);
  });
}

test('four parts of one file, every transform: the two rounds equal analyze to 1e-10 (NaN and zero rows included)', async () => {
  // isobn-running needs the parts before the last to hold whole batches: NaN rows in the last one
  const f = await file('all.npy', 413, 5, (x) => {
    for (const r of [310, 350, 351, 400]) x[r * D + 2] = NaN;
    for (const r of [7, 260]) x.fill(0, r * D, (r + 1) * D);
  });
  const pieces = [0, 1, 2, 3].map((i) => ({ file: f, shard: `${i}/4` }));
  const merged = await twoRounds(pieces, { transforms: ALL, dropNonfinite: true });
  const whole = await analyze([f], { transforms: ALL, dropNonfinite: true, ...js });
  assert.is(merged.inputs[0].droppedRows, 4);
  assert.is(merged.inputs[0].path, f);
  assert.equal(merged.inputs[0].shards, ['p_0.json', 'p_1.json', 'p_2.json', 'p_3.json']);
  for (const r of merged.results) assert.ok(r.transform === 'whiten' || r.partitionIsotropy !== null, `${r.transform} I(W)`);
  agree(merged, whole);
});

const nativeWhy = await unavailableReason('native');
test(`with the native kernels too (${nativeWhy ?? 'available'})`, async () => {
  if (nativeWhy !== null) return;
  const f = await file('native.npy', 300, 8);
  const pieces = [0, 1, 2].map((i) => ({ file: f, shard: `${i}/3` }));
  const merged = await twoRounds(pieces, { transforms: 'isobn,abtt', backend: 'native' });
  agree(merged, await analyze([f], { transforms: 'isobn,abtt', backend: 'native' }));
});

test('files of unequal sizes as shards equal analyze of their concatenation', async () => {
  const sizes = [17, 250, 146];
  const nan = (x: Float64Array, k: number) => { if (k !== 1) x[(k * 7 + 3) * D + 4] = Infinity; };
  const parts = await Promise.all(sizes.map((n, k) => file(`part${k}.npy`, n, 20 + k, (x) => nan(x, k))));
  const all = new Float64Array(413 * D);
  let at = 0;
  sizes.forEach((n, k) => { const x = anisotropic(n, D, 20 + k); nan(x, k); all.set(x, at); at += n * D; });
  const whole = join(tmp.dir, 'concat.npy');
  await writeNpy(whole, all, 413, D, { dtype: 'f8' });
  const t = 'isobn,standardize,whiten,abtt';
  const merged = await twoRounds(parts.map((p) => ({ file: p })), { transforms: t, dropNonfinite: true });
  assert.is(merged.inputs[0].path, '3 files');
  assert.is(merged.inputs[0].droppedRows, 2);
  agree(merged, await analyze([whole], { transforms: t, dropNonfinite: true, ...js }));
});

test('isobn-running composes across shards cut on batch boundaries, whatever order the shards come in', async () => {
  const f = await file('running.npy', 403, 9);
  assert.equal(shardRange(403, { index: 1, count: 3 }, 16), { start: 128, end: 272 });
  const pieces = [2, 0, 1].map((i) => ({ file: f, shard: `${i}/3` }));
  const merged = await twoRounds(pieces, { transforms: 'isobn-running', batchSize: 16 });
  agree(merged, await analyze([f], { transforms: 'isobn-running', ...js }));
  // Batch size 5 over a part of zero usable rows (all NaN): the other parts still align.
  const g = await file('holes.npy', 40, 10, (x) => { for (let r = 10; r < 20; r++) x[r * D] = NaN; });
  const holes = [0, 1, 2, 3].map((i) => ({ file: g, shard: `${i}/4` }));
  const shards = await round1(holes, { transforms: 'isobn-running', dropNonfinite: true, batchSize: 5 });
  assert.equal(shards.map((s) => s.acc.count), [10, 0, 10, 10]);
  const m2 = await twoRounds(holes, { transforms: 'isobn-running,isobn', dropNonfinite: true, batchSize: 5 });
  agree(m2, await analyze([g], { transforms: 'isobn-running,isobn', dropNonfinite: true, batchSize: 5, ...js }));
});

test('isobn-running is refused when shards end inside a batch, or lack its state', async () => {
  const parts = await Promise.all([17, 40].map((n, k) => file(`odd${k}.npy`, n, 30 + k)));
  const shards = await round1(parts.map((p) => ({ file: p })), { transforms: 'isobn-running' });
  await rejects(analyzeShards(shards, ['a.json', 'b.json'], { transforms: 'isobn-running', ...js }), 'a.json ends inside a batch (1 of 16 rows)');
  const plain = await round1(parts.map((p) => ({ file: p })));
  await rejects(analyzeShards(plain, ['a.json', 'b.json'], { transforms: 'isobn-running' }), 'a.json holds no isobn-running state: make every shard with isotropy stats --transform isobn-running');
  const aligned = await round1([{ file: parts[1] }], { transforms: 'isobn-running' });
  await rejects(analyzeShards(aligned, ['b.json'], { transforms: 'isobn-running', batchSize: 32 }), 'replayed with --batch-size 16, not 32');
});

test('a shard given twice, a merged file with one of its shards, a copied file, overlapping or missing parts are refused', async () => {
  const f = await file('dup.npy', 120, 11);
  const [a, b, c] = await round1([0, 1, 2].map((i) => ({ file: f, shard: `${i}/3` })));
  const refuse = (shards: Shard[], labels: string[], text: string) => assert.throws(() => mergeShards(shards, labels), (e: Error) => e instanceof StatsError && e.message.includes(text));
  refuse([a, b, c, b], ['a', 'b', 'c', 'b2'], 'hold identical statistics');
  refuse([a, b, c, shardFromJSON({ ...wire(shardToJSON(b)) as object })], ['a', 'b', 'c', 'b-again'], 'b and b-again hold identical statistics');
  const warnings: string[] = [];
  const ab = mergeShards([a, b], ['a', 'b'], false, { allowMissing: true, onWarning: (m) => warnings.push(m) });
  assert.match(warnings[0], 'only some rows are merged: ');
  assert.match(warnings[0], 'the shards hold 80 of its 120 rows; missing part(s) 2/3');
  refuse([{ acc: ab.acc, running: null }, b, c], ['ab', 'b', 'c'], 'hold the same shard');
  // the same rows under another name: identical statistics
  const copy = join(tmp.dir, 'dup-copy.npy');
  copyFileSync(f, copy);
  const [whole, again] = await round1([{ file: f }, { file: copy }]);
  refuse([whole, again], ['w', 'w-copy'], 'w and w-copy hold identical statistics');
  // parts of different cuts overlap; a missing part leaves rows uncovered
  const [half] = await round1([{ file: f, shard: '0/2' }]);
  refuse([half, a, b, c], ['h', 'a', 'b', 'c'], 'overlap');
  refuse([a, c], ['a', 'c'], 'the shards hold 80 of its 120 rows; missing part(s) 1/3');
  assert.is(mergeShards([c, a, b], ['c', 'a', 'b']).acc.count, 120);
});

test('files are told apart by their content: different files staged at one path on different nodes merge', async () => {
  const first = await round1([{ file: await file('stage.npy', 50, 40) }]);
  const second = await round1([{ file: await file('stage.npy', 70, 41) }]);
  const m = mergeShards([...first, ...second], ['node1', 'node2']);
  assert.is(m.acc.count, 120);
  assert.is(m.label, '2 files');
});

test('partials of another plan, twice the same partial, a missing partial and an edited plan are refused', async () => {
  const f = await file('plans.npy', 90, 12);
  const pieces = [0, 1].map((i) => ({ file: f, shard: `${i}/2` }));
  const shards = await round1(pieces);
  const { plan } = await planShards(shards, ['s0', 's1'], { transforms: 'isobn', ...js });
  const { plan: other } = await planShards(shards, ['s0', 's1'], { transforms: 'isobn,abtt', ...js });
  assert.is.not(plan.id, other.id);
  const [p0, p1] = await round2(pieces, plan);
  const [q0] = await round2(pieces, other);
  assert.throws(() => partialFromJSON(wire(partialToJSON(q0)), plan), (e: Error) => /made with another plan/.test(e.message));
  await rejects(analyzePlan(plan, [p0, q0], ['p0', 'q0']), 'q0 was made with another plan');
  await rejects(analyzePlan(plan, [p0, p1, p0], ['p0', 'p1', 'p0b']), 'p0 and p0b are partials of the same shard');
  await rejects(analyzePlan(plan, [p1], ['p1']), 'no partial for 1 shard(s) of the plan');
  const edited = planToJSON(plan) as unknown as { label: string; params: Record<string, number> };
  edited.params = { eps: 0.5 };
  assert.throws(() => planFromJSON(wire(edited)), (e: Error) => /does not match its id/.test(e.message));
  const count = wire(partialToJSON(p0)) as { count: number };
  count.count += 1;
  assert.throws(() => partialFromJSON(count, plan), (e: Error) => /round 1 counted/.test(e.message));
  const sums = wire(partialToJSON(p0)) as { views: Array<{ sumPos: string }> };
  sums.views[0].sumPos = Buffer.from(new Float64Array(D).fill(1e300).buffer).toString('base64');
  assert.throws(() => partialFromJSON(sums, plan), (e: Error) => /sumPos\[0\] is 1e\+300, outside/.test(e.message));
});

test('round 2 refuses a file that is not in the plan, or that changed since round 1', async () => {
  const f = await file('changes.npy', 60, 13);
  const pieces = [0, 1].map((i) => ({ file: f, shard: `${i}/2` }));
  const { plan } = await planShards(await round1(pieces), ['s0', 's1'], { transforms: 'isobn', ...js });
  await rejects(computePartial(f, plan, { shard: '0/3' }), 'is not a shard in this plan');
  await rejects(computePartial(f, plan), 'is not a shard in this plan');
  await file('changes.npy', 60, 13, (x) => { x[40 * D] = NaN; });
  await rejects(computePartial(f, plan, { shard: '1/2' }), 'hold 29 usable rows and 1 with NaN/Inf now, 30 and 0 in round 1');
  await file('changes.npy', 61, 13);
  await rejects(computePartial(f, plan, { shard: '0/2' }), 'the file is 61 x 9 <f8 now, 60 x 9 <f8 in round 1: it changed between the rounds');
  // found by its name and size when it moved (a node's scratch disk)
  await file('changes.npy', 60, 13);
  const moved = join(tmp.dir, 'elsewhere');
  (await import('node:fs')).mkdirSync(moved);
  copyFileSync(f, join(moved, 'changes.npy'));
  const p = await computePartial(join(moved, 'changes.npy'), plan, { shard: '1/2', ...js });
  assert.is(p.shard, plan.shards[1].id);
});

test('parts: i/N is checked; N larger than the rows gives empty parts that still merge', async () => {
  await rejects(computeShard(join(tmp.dir, 'all.npy'), { shard: '4/4' }), 'shard must be i/N with 0 <= i < N');
  await rejects(computeShard(join(tmp.dir, 'all.npy'), { shard: 'x' }), 'shard must be i/N');
  const f = await file('tiny.npy', 3, 14);
  const pieces = [0, 1, 2, 3, 4].map((i) => ({ file: f, shard: `${i}/5` }));
  const shards = await round1(pieces);
  assert.equal(shards.map((s) => s.acc.count), [0, 1, 0, 1, 1]);
  const a = await analyzeShards(shards, pieces.map((_, k) => `s${k}`), { transforms: 'isobn', ...js });
  assert.is(a.inputs[0].rows, 3);
  writeFileSync(join(tmp.dir, 'unused'), '');
});

test('statistics built with the API (no sources) merge as rows of their own; the same ones twice are refused', async () => {
  const { StatsAccumulator } = await import('../../src/stats/accumulator.ts');
  const a = new StatsAccumulator(D), b = new StatsAccumulator(D);
  a.push(anisotropic(30, D, 16), 30);
  b.push(anisotropic(40, D, 17), 40);
  const m = mergeShards([{ acc: a, running: null }, { acc: b, running: null }], ['a', 'b']);
  assert.is(m.acc.count, 70);
  assert.ok(StatsAccumulator.fromJSON(wire(m.acc.toJSON())));
  assert.throws(() => mergeShards([{ acc: a, running: null }, { acc: a, running: null }], ['a', 'a2']), /a and a2 hold identical statistics/);
  await rejects(planShards([{ acc: a, running: null }], ['a']), 'a has no shard identity');
});

test('statistics merged from one shard are that shard bit for bit, and load again', async () => {
  const f = await file('single.npy', 77, 15);
  const [one] = await round1([{ file: f }]);
  const m = mergeShards([one], ['one']);
  assert.equal(m.acc.toJSON(), one.acc.toJSON());
  assert.ok(shardFromJSON(wire(shardToJSON(m))));
});

test.run();
