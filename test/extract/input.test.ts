import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSentences, type ReadSentencesOptions } from '../../src/extract/input.js';
import { ExtractError } from '../../src/extract/types.js';

const root = mkdtempSync(join(tmpdir(), 'isotropy-input-'));
test.after(() => rmSync(root, { recursive: true, force: true }));
let files = 0;

function file(name: string, content: string | Uint8Array): string {
  const dir = join(root, `f${files++}`);
  mkdirSync(dir);
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

async function rejectsWith(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, ExtractError);
    assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable('expected an ExtractError');
}

const read = (name: string, content: string | Uint8Array, opts?: ReadSentencesOptions) => readSentences(file(name, content), opts);

// ---------------------------------------------------------------------------------------------
// text

test('text: one sentence per line, CRLF, blank lines counted, no pairs', async () => {
  const content = 'First sentence.\r\n\r\n  Second, with spaces kept  \n   \nThird\n';
  const r = await read('s.txt', content);
  assert.equal(r.sentences, ['First sentence.', '  Second, with spaces kept  ', 'Third']);
  assert.is(r.skippedEmpty, 2);
  assert.is(r.format, 'text');
  assert.is(r.pairs, undefined);
  assert.is(r.sha256, createHash('sha256').update(content).digest('hex'));
});

test('text: BOM dropped (but hashed), last line without newline, any extension', async () => {
  const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('héllo\nwörld 😀')]);
  const r = await read('sentences.dat', bytes);
  assert.equal(r.sentences, ['héllo', 'wörld 😀']);
  assert.is(r.skippedEmpty, 0);
  assert.is(r.sha256, createHash('sha256').update(bytes).digest('hex'));
});

test('text: field/column/pairField are refused', async () => {
  await rejectsWith(read('s.txt', 'a\n', { field: 'x' }), /s\.txt: field given, but the file is read as plain text.*--format jsonl\|tsv\|csv/);
  await rejectsWith(read('s.json', 'a\n', { column: 'x', pairField: 'y' }), /column\/pairField given/);
});

test('text: empty file, only blank lines', async () => {
  const empty = file('e.txt', '');
  await rejectsWith(readSentences(empty), new RegExp(`^no sentences in ${empty.replace(/[.\\/]/g, '\\$&')}$`));
  await rejectsWith(read('b.txt', '\n  \n\t\n'), /no sentences in .*b\.txt \(3 empty lines or records skipped\)/);
});

test('missing file, directory, not UTF-8, unknown format', async () => {
  await rejectsWith(readSentences(join(root, 'nope.txt')), /nope\.txt: no such file/);
  await rejectsWith(readSentences(root), /is a directory/);
  await rejectsWith(read('latin1.txt', Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a])), /latin1\.txt: not UTF-8/);
  await rejectsWith(read('a.txt', 'a\n', { format: 'xml' as never }), /unknown input format "xml"/);
});

// ---------------------------------------------------------------------------------------------
// jsonl

test('jsonl: field, nested field, pairs, blank and empty records', async () => {
  const lines = [
    '{"premise": "A man plays.", "hypothesis": "Someone plays.", "meta": {"text": "nested one"}}',
    '',
    '{"premise": "  ", "hypothesis": "skipped with its premise", "meta": {"text": "x"}}',
    '{"premise": "Two dogs run.", "hypothesis": "", "meta": {"text": "nested two"}}',
    '{"premise": null, "hypothesis": "null counts as empty", "meta": {"text": "y"}}',
    '{"premise": 42, "hypothesis": true, "meta": {"text": "z"}}',
  ];
  const content = lines.join('\r\n') + '\r\n';
  const r = await read('mnli.jsonl', content, { field: 'premise', pairField: 'hypothesis' });
  assert.equal(r.sentences, ['A man plays.', 'Two dogs run.', '42']);
  assert.equal(r.pairs, ['Someone plays.', '', 'true']);
  assert.is(r.skippedEmpty, 3);
  assert.is(r.format, 'jsonl');
  const nested = await read('n.ndjson', content, { field: 'meta.text' });
  assert.equal(nested.sentences, ['nested one', 'x', 'nested two', 'y', 'z']);
  assert.is(nested.format, 'jsonl');
  // A key that itself contains a dot wins over the nested path.
  const dotted = await read('d.jsonl', '{"a.b": "flat", "a": {"b": "deep"}}\n', { field: 'a.b' });
  assert.equal(dotted.sentences, ['flat']);
});

test('jsonl: --format overrides the extension; column is an alias of field', async () => {
  const r = await read('data.json', '{"s": "one"}\n{"s": "two"}\n', { format: 'jsonl', column: 's' });
  assert.equal(r.sentences, ['one', 'two']);
});

test('jsonl: errors name the line and the fix', async () => {
  await rejectsWith(read('a.jsonl', '\n{"sentence": "x", "label": 1}\n'), /a\.jsonl: JSON lines need --field .*first record has keys: "sentence", "label"/);
  await rejectsWith(read('b.jsonl', '{"s": "x"}\n{"s": "y",}\n', { field: 's' }), /b\.jsonl: bad JSON on line 2/);
  await rejectsWith(read('c.jsonl', '{"s": "x"}\n["s"]\n', { field: 's' }), /c\.jsonl: line 2 is not a JSON object/);
  await rejectsWith(read('d.jsonl', '{"s": "x"}\n{"t": "y"}\n', { field: 's' }), /d\.jsonl: line 2 has no field "s" \(--field\); its keys: "t"/);
  await rejectsWith(read('e.jsonl', '{"s": "x", "h": "y"}\n{"s": "x"}\n', { field: 's', pairField: 'h' }), /e\.jsonl: line 2 has no field "h" \(--pair-field\)/);
  await rejectsWith(read('f.jsonl', '{"s": {"t": 1}}\n', { field: 's' }), /f\.jsonl: line 1: field "s" is an object, not text/);
  await rejectsWith(read('g.jsonl', '{"s": ""}\n\n', { field: 's' }), /no sentences in .*g\.jsonl \(2 empty/);
  // A record with 20,000 keys, or a 1 MB key, is not echoed whole.
  const wide = JSON.stringify(Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i])));
  try {
    await read('h.jsonl', `${wide}\n`, {});
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /first record has keys: "k0", "k1", .*"k19", \.\.\. \(20000 keys\)$/);
    assert.ok((e as Error).message.length < 600);
  }
  try {
    await read('i.jsonl', `${JSON.stringify({ ['x'.repeat(1_000_000)]: 1 })}\n`, { field: 's' });
    assert.unreachable();
  } catch (e) {
    assert.ok((e as Error).message.length < 600, `${(e as Error).message.length} characters`);
  }
});

// ---------------------------------------------------------------------------------------------
// tsv

test('tsv: GLUE style, column by name or index, pairs, quotes are literal', async () => {
  const content = [
    'index\tpromptID\tsentence1\tsentence2\tgold_label',
    '0\t31193\tConceptually "cream skimming" has two dimensions.\tProduct and geography are what make cream skimming work.\tneutral',
    '',
    '1\t101457\t \tskipped\tneutral',
    '2\t134793\tOne of our number.\t\tentailment',
  ].join('\n');
  const r = await read('dev_matched.tsv', content, { column: 'sentence1', pairField: 'sentence2' });
  assert.equal(r.sentences, ['Conceptually "cream skimming" has two dimensions.', 'One of our number.']);
  assert.equal(r.pairs, ['Product and geography are what make cream skimming work.', '']);
  assert.is(r.skippedEmpty, 2);
  assert.is(r.format, 'tsv');
  const byIndex = await read('x.tsv', content, { column: '2' });
  assert.equal(byIndex.sentences, r.sentences);
});

test('tsv: single-column header needs no --column; CRLF', async () => {
  const r = await read('s.tsv', 'sentence\r\nit is good\r\nit is bad\r\n');
  assert.equal(r.sentences, ['it is good', 'it is bad']);
});

test('tsv: errors', async () => {
  await rejectsWith(read('a.tsv', 'sentence\tlabel\nx\t1\n'), /a\.tsv: a TSV file needs --column .*header has: "sentence", "label"/);
  await rejectsWith(read('b.tsv', 'sentence\tlabel\nx\t1\n', { column: 'text' }), /b\.tsv: no column "text"; the header has: "sentence", "label" \(pass --column/);
  await rejectsWith(read('c.tsv', 'sentence\tlabel\nx\t1\n', { column: 'sentence', pairField: '7' }), /no column "7".*--pair-field/);
  const wide = Array.from({ length: 20_000 }, (_, i) => `c${i}`).join('\t');
  await rejectsWith(read('d.tsv', `${wide}\nx\n`, { column: 'text' }), /no column "text"; the header has: "c0", .*"c19", \.\.\. \(20000 columns\) \(pass --column/);
  await rejectsWith(read('d.tsv', 'label\tsentence\n1\tx\n0\n', { column: 'sentence' }), /d\.tsv: line 3 has 1 field, but column "sentence" is field 2/);
  await rejectsWith(read('e.tsv', '', { column: 'sentence' }), /no sentences in .*e\.tsv/);
  await rejectsWith(read('f.tsv', 'sentence\n\n', { column: 'sentence' }), /no sentences in .*f\.tsv \(1 empty line/);
});

// ---------------------------------------------------------------------------------------------
// csv

test('csv: RFC 4180 quoting (commas, doubled quotes, line breaks), CRLF', async () => {
  const content = [
    'id,sentence,hypothesis',
    '1,"Hello, world","He said ""hi"""',
    '2,"A line\r\nbreak, inside",plain',
    '3,,skipped',
    '',
    '4,unquoted with "inner" quotes,"quoted"tail',
    '5,"",""',
    '6,last row,"no final newline"',
  ].join('\r\n');
  const r = await read('pairs.csv', content, { column: 'sentence', pairField: 'hypothesis' });
  assert.equal(r.sentences, ['Hello, world', 'A line\r\nbreak, inside', 'unquoted with "inner" quotes', 'last row']);
  assert.equal(r.pairs, ['He said "hi"', 'plain', 'quotedtail', 'no final newline']);
  assert.is(r.skippedEmpty, 3);
  assert.is(r.format, 'csv');
});

test('csv: header match ignores surrounding spaces; trailing empty field; index', async () => {
  const r = await read('t.csv', ' text ,label\nfirst,\nsecond,1\n', { column: 'text' });
  assert.equal(r.sentences, ['first', 'second']);
  const byIndex = await read('u.csv', 'a,b\n"x,y",z\n', { column: '0', pairField: '1' });
  assert.equal(byIndex.sentences, ['x,y']);
  assert.equal(byIndex.pairs, ['z']);
});

test('csv: errors give the line of the record', async () => {
  await rejectsWith(read('a.csv', 'sentence,label\n"x\ny",1\n"unclosed,2\nmore\n', { column: 'sentence' }),
    /a\.csv: the quoted field opened on line 4 never closes/);
  await rejectsWith(read('b.csv', 'label,sentence\n1,"two\nlines"\n0\n', { column: 'sentence' }),
    /b\.csv: line 4 has 1 field, but column "sentence" is field 2/);
  await rejectsWith(read('c.csv', 'a,b\n1,2\n', { column: 'sentence' }), /c\.csv: no column "sentence"; the header has: "a", "b"/);
  await rejectsWith(read('d.csv', 'a,b\n1,2\n'), /d\.csv: a CSV file needs --column/);
});

test.run();
