// The text table of `isotropy analyze`: labels over their columns, n/a with reasons, layers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAX_TABLE_WIDTH, formatAnalysis } from '../../src/cli/format.ts';
import { fixtureAnalysis, layeredAnalysis } from '../report/fixture.ts';

const three = await fixtureAnalysis({ rows: 60, dims: 8, labels: ['BERT', 'RoBERTa', 'GPT-2'], transforms: 'isobn,whiten', secondPass: false, sample: 0, rogue: [2, 0, 0] });

test('several inputs: one table, each label over its columns, a column per transform', () => {
  const text = formatAnalysis(three);
  const lines = text.split('\n');
  const head = lines.findIndex((l) => /^metric\s/.test(l));
  assert.match(lines[head], /^metric\s+none\s+isobn\s+whiten\s+none\s+isobn\s+whiten\s+none\s+isobn\s+whiten$/);
  const labels = lines[head - 1];
  for (const label of ['BERT', 'RoBERTa', 'GPT-2']) assert.ok(labels.includes(label), label);
  // each label ends over the last column of its input (right-aligned like the numbers)
  const whitenEnds = [...lines[head].matchAll(/whiten/g)].map((m) => m.index! + 'whiten'.length);
  assert.equal(['BERT', 'RoBERTa', 'GPT-2'].map((l) => labels.indexOf(l) + l.length), whitenEnds);
  assert.match(text, /^\/data\/embeddings\/input-0\.npy \(BERT\)$/m);
});

test('a metric that could not be computed reads n/a, with the reason under the table, never NaN', () => {
  const a = structuredClone(three);
  a.results[1].isoScore = NaN;
  a.results[1].nullReasons = { isoScore: 'no variance left' };
  const text = formatAnalysis(a);
  assert.match(text, /^partitionIsotropy(\s+n\/a){9}$/m);
  assert.match(text, /^n\/a partitionIsotropy: not computed: needs the second pass/m);
  assert.match(text, /^n\/a isoScore: no variance left$/m);
  assert.not.match(text, /NaN(?!\/Inf)/);
  assert.match(text, /^rogue dims of BERT, share of avgCosine: dim \d+ \(\d+%\)/m);
});

test('layers: a group per input and layer; tables wider than the limit are split', async () => {
  const a = await layeredAnalysis({ rows: 40, dims: 6, layers: 6, labels: ['BERT'], transforms: 'isobn,whiten', secondPass: false, sample: 0 });
  const text = formatAnalysis(a);
  assert.match(text, /shape \(40, 6, 6\), layers 0, 1, 2, 3, 4, 5, 40 rows x 6 dims/);
  for (let l = 0; l < 6; l++) assert.match(text, new RegExp(`BERT layer ${l}`));
  const tables = text.split('\n').filter((l) => /^metric\s/.test(l));
  assert.ok(tables.length >= 2, `${tables.length} tables`);
  for (const line of text.split('\n')) assert.ok(line.length <= MAX_TABLE_WIDTH + 30 || !line.startsWith('metric'), line);
});

test.run();
