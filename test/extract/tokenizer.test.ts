import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTokenizer, type TextTokenizer } from '../../src/extract/tokenizer.js';
import { ExtractError } from '../../src/extract/types.js';

// Vocabularies in data/tok-bert and data/tok-roberta are small and hand-made; the expected ids
// below were worked out by hand from those files (line number = id in vocab.txt; in vocab.json
// the byte b has id 4 + b, merged tokens start at 260). See data/tok-roberta/README.md.
const DATA = join(dirname(fileURLToPath(import.meta.url)), 'data');
const BERT = join(DATA, 'tok-bert');
const ROBERTA = join(DATA, 'tok-roberta');

const root = mkdtempSync(join(tmpdir(), 'isotropy-tok-'));
test.after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

/** A fresh folder with the given files copied from `from` and/or written from strings. */
function folder(from: string, copy: string[], write: Record<string, string> = {}): string {
  const dir = join(root, `d${dirs++}`);
  mkdirSync(dir);
  for (const f of copy) copyFileSync(join(from, f), join(dir, f));
  for (const [f, text] of Object.entries(write)) writeFileSync(join(dir, f), text);
  return dir;
}

async function rejectsWith(p: Promise<unknown>, pattern: RegExp | string): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, ExtractError);
    const msg = (e as Error).message;
    if (typeof pattern === 'string') assert.is(msg, pattern);
    else assert.match(msg, pattern);
    return;
  }
  assert.unreachable('expected an ExtractError');
}

function throwsWith(f: () => unknown, pattern: RegExp): void {
  try {
    f();
  } catch (e) {
    assert.instance(e, ExtractError);
    assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable('expected an ExtractError');
}

// ---------------------------------------------------------------------------------------------
// (a) known answers

test('BERT tokenizer.json (cased): punctuation, ## split, [UNK]', async () => {
  const tok = await loadTokenizer(BERT, 'bert');
  assert.is(tok.kind, 'tokenizer.json');
  assert.is(tok.padId, 0);
  // [CLS] Hello , world ! The cat was play ##ing with [UNK](Qwerty) . [SEP]
  const r = tok.encode('Hello, world! The cat was playing with Qwerty.');
  assert.equal(r.ids, [2, 30, 14, 32, 5, 34, 40, 39, 42, 43, 49, 1, 16, 3]);
  assert.equal(r.typeIds, new Array(14).fill(0));
  // un ##aff ##able | r ##é ##s ##um ##é (accents kept: cased) | 19 ##9 ##9
  assert.equal(tok.encode('unaffable résumé 1999').ids, [2, 46, 47, 48, 87, 88, 44, 89, 88, 29, 28, 28, 3]);
  // CJK characters are split apart even without spaces.
  assert.equal(tok.encode('日本中文').ids, [2, 64, 65, 62, 63, 3]);
});

test('BERT vocab.txt only: lower-cases and strips accents by default', async () => {
  const tok = await loadTokenizer(folder(BERT, ['vocab.txt']), 'bert');
  assert.is(tok.kind, 'wordpiece (vocab.txt)');
  // hello (31), the (35) instead of Hello (30), The (34)
  assert.equal(tok.encode('Hello, world! The cat was playing with Qwerty.').ids,
    [2, 31, 14, 32, 5, 35, 40, 39, 42, 43, 49, 1, 16, 3]);
  // résumé -> resume: r ##e ##s ##um ##e
  assert.equal(tok.encode('unaffable résumé 1999').ids, [2, 46, 47, 48, 87, 82, 44, 89, 82, 29, 28, 28, 3]);
  assert.equal(tok.encode('Café').ids, [2, 58, 3]);
});

test('BERT vocab.txt + do_lower_case false keeps case and accents', async () => {
  const tok = await loadTokenizer(folder(BERT, ['vocab.txt', 'tokenizer_config.json']), 'bert');
  assert.equal(tok.encode('Hello The café').ids, [2, 30, 34, 57, 3]);
  assert.equal(tok.encode('Café').ids, [2, 1, 3]);
});

test('BERT pairs: [CLS] a [SEP] b [SEP] with segment ids; empty second sentence', async () => {
  const tok = await loadTokenizer(BERT, 'bert');
  assert.equal(tok.encode('Hello world', 'The cat'), { ids: [2, 30, 32, 3, 34, 40, 3], typeIds: [0, 0, 0, 0, 1, 1, 1] });
  assert.equal(tok.encode('a', ''), { ids: [2, 36, 3, 3], typeIds: [0, 0, 0, 1] });
  assert.equal(tok.encode(''), { ids: [2, 3], typeIds: [0, 0] });
});

test('RoBERTa tokenizer.json: byte-level BPE, leading space matters', async () => {
  const tok = await loadTokenizer(ROBERTA, 'roberta');
  assert.is(tok.kind, 'tokenizer.json');
  assert.is(tok.padId, 1);
  // <s> Hello Ġworld , Ġthe Ġcat Ġsat Ġon Ġthe Ġmat . </s>
  assert.equal(tok.encode('Hello world, the cat sat on the mat.').ids, [0, 269, 274, 48, 262, 265, 276, 278, 262, 280, 50, 2]);
  // "the" at the start has no Ġ: t (4 + 116) he (261); " the" is one token Ġthe (262)
  assert.equal(tok.encode('the cat').ids, [0, 120, 261, 265, 2]);
  assert.equal(tok.encode(' the cat').ids, [0, 262, 265, 2]);
  // No merges apply: one token per UTF-8 byte (F0 9F 98 80)
  assert.equal(tok.encode('😀').ids, [0, 4 + 0xf0, 4 + 0x9f, 4 + 0x98, 4 + 0x80, 2]);
});

test('RoBERTa pairs: <s> a </s></s> b </s>, token types all 0', async () => {
  const tok = await loadTokenizer(ROBERTA, 'roberta');
  assert.equal(tok.encode('Hello', 'the cat'), { ids: [0, 269, 2, 2, 120, 261, 265, 2], typeIds: new Array(8).fill(0) });
  assert.equal(tok.encode('Hello', '').ids, [0, 269, 2, 2, 2]);
});

test('RoBERTa vocab.json + merges.txt gives the same known answers', async () => {
  const tok = await loadTokenizer(folder(ROBERTA, ['vocab.json', 'merges.txt']), 'roberta');
  assert.is(tok.kind, 'byte-level bpe (vocab.json + merges.txt)');
  assert.is(tok.padId, 1);
  assert.equal(tok.encode('Hello world, the cat sat on the mat.').ids, [0, 269, 274, 48, 262, 265, 276, 278, 262, 280, 50, 2]);
  assert.equal(tok.encode('The cat').ids, [0, 285, 265, 2]);
});

// ---------------------------------------------------------------------------------------------
// (b) vocab-only builders == the library loaded with tokenizer.json

const SENTENCES = [
  'Hello, world!',
  'The café\'s naïve über-cat sat on the mat.',
  'Résumé: 1999, 2023 & 3.14% (approx.) #1 @home $5',
  '日本中文 text with CJK 中文字 and 𠀀 (an extension-B ideograph)',
  'emoji 😀 and 😀😀 and hi😀 👩‍👩‍👧 🇫🇷',
  '',
  '   leading and trailing spaces   ',
  'tabs\tand\nnewlines\r\nand  double  spaces',
  'a'.repeat(150),
  'x'.repeat(99) + ' ' + 'y'.repeat(100) + ' ' + 'z'.repeat(101),
  'supercalifragilisticexpialidocious tokenization embeddings',
  '[MASK] is special, so is [CLS]; [mask] is not',
  'The capital of France is <mask>.',
  "don't stop; it's 5 o'clock!",
  'ÜNÏCÖDÉ ÀÉÎÕÜ ß ﬁ İstanbul',
  'control\u0000chars\u0007 zero\u200bwidth \ufffd replacement',
  'combining e\u0301 vs precomposed é',
  'New York, new york, NEW YORK',
  '¿Qué? ¡Sí! — «quotes» “curly” …',
  'Ελληνικά и русский текст',
  '12345678901234567890 1,000,000.00',
  'It was the BERT and RoBERTa dog, playing.',
];

const PAIRS: [string, string][] = [
  ['Hello, world!', 'The cat sat on the mat.'],
  ['A man is playing.', ''],
  ['', 'only the second'],
  ['日本', '😀 <mask> [SEP]'],
];

async function sameIds(a: TextTokenizer, b: TextTokenizer): Promise<void> {
  for (const s of SENTENCES) {
    assert.equal(b.encode(s), a.encode(s), JSON.stringify(s));
  }
  for (const [x, y] of PAIRS) {
    assert.equal(b.encode(x, y), a.encode(x, y), JSON.stringify([x, y]));
  }
}

test('BERT cased: vocab.txt + tokenizer_config.json == tokenizer.json', async () => {
  const ref = await loadTokenizer(BERT, 'bert');
  const built = await loadTokenizer(folder(BERT, ['vocab.txt', 'tokenizer_config.json']), 'bert');
  assert.is(built.kind, 'wordpiece (vocab.txt)');
  await sameIds(ref, built);
  // Not vacuous: the sentences hit [UNK] and real pieces alike.
  const ids = SENTENCES.flatMap((s) => ref.encode(s).ids);
  assert.ok(ids.includes(1) && ids.filter((i) => i > 4).length > 50);
});

test('BERT uncased: vocab.txt alone == tokenizer.json with lowercase: true', async () => {
  const json = JSON.parse(readFileSync(join(BERT, 'tokenizer.json'), 'utf8'));
  json.normalizer.lowercase = true;
  const ref = await loadTokenizer(folder(BERT, [], { 'tokenizer.json': JSON.stringify(json) }), 'bert');
  const built = await loadTokenizer(folder(BERT, ['vocab.txt']), 'bert');
  await sameIds(ref, built);
  assert.not.equal(ref.encode('Hello').ids, (await loadTokenizer(BERT, 'bert')).encode('Hello').ids);
});

test('RoBERTa: vocab.json + merges.txt == tokenizer.json', async () => {
  const ref = await loadTokenizer(ROBERTA, 'roberta');
  const built = await loadTokenizer(folder(ROBERTA, ['vocab.json', 'merges.txt']), 'roberta');
  await sameIds(ref, built);
});

test('merges.txt without #version line, CRLF files and a BOM load the same', async () => {
  const ref = await loadTokenizer(ROBERTA, 'roberta');
  const merges = readFileSync(join(ROBERTA, 'merges.txt'), 'utf8').split('\n').slice(1).join('\r\n');
  const built = await loadTokenizer(folder(ROBERTA, ['vocab.json'], { 'merges.txt': merges }), 'roberta');
  await sameIds(ref, built);
  const vocab = '\ufeff' + readFileSync(join(BERT, 'vocab.txt'), 'utf8').split('\n').join('\r\n');
  const bert = await loadTokenizer(folder(BERT, ['tokenizer_config.json'], { 'vocab.txt': vocab }), 'bert');
  await sameIds(await loadTokenizer(BERT, 'bert'), bert);
});

test('tokenizer_config.json do_lower_case overrides tokenizer.json, as in transformers', async () => {
  const dir = folder(BERT, ['tokenizer.json'], { 'tokenizer_config.json': '{"do_lower_case": true}' });
  const tok = await loadTokenizer(dir, 'bert');
  assert.equal(tok.encode('Hello The').ids, [2, 31, 35, 3]);
});

test('tokenizer.json without a post-processor gets the standard one', async () => {
  const json = JSON.parse(readFileSync(join(BERT, 'tokenizer.json'), 'utf8'));
  json.post_processor = null;
  const bert = await loadTokenizer(folder(BERT, ['tokenizer_config.json'], { 'tokenizer.json': JSON.stringify(json) }), 'bert');
  assert.equal(bert.encode('Hello', 'The'), { ids: [2, 30, 3, 34, 3], typeIds: [0, 0, 0, 1, 1] });
  const rj = JSON.parse(readFileSync(join(ROBERTA, 'tokenizer.json'), 'utf8'));
  delete rj.post_processor;
  const roberta = await loadTokenizer(folder(ROBERTA, [], { 'tokenizer.json': JSON.stringify(rj) }), 'roberta');
  assert.equal(roberta.encode('Hello', 'The').ids, [0, 269, 2, 2, 285, 2]);
});

test('special token names from tokenizer_config.json (string or AddedToken object)', async () => {
  const vocab = readFileSync(join(BERT, 'vocab.txt'), 'utf8').replace('[CLS]', '<cls>').replace('[PAD]', '<pad>');
  const config = JSON.stringify({ do_lower_case: false, cls_token: '<cls>', pad_token: { content: '<pad>', __type: 'AddedToken' } });
  const tok = await loadTokenizer(folder(BERT, [], { 'vocab.txt': vocab, 'tokenizer_config.json': config }), 'bert');
  assert.equal(tok.encode('Hello').ids, [2, 30, 3]);
  assert.is(tok.padId, 0);
});

// ---------------------------------------------------------------------------------------------
// (c) batches

test('encodeBatch pads to the longest row, with mask and pad id', async () => {
  const tok = await loadTokenizer(ROBERTA, 'roberta');
  const b = tok.encodeBatch(['Hello', 'Hello world, the cat', ''], undefined, 128);
  assert.is(b.batch, 3);
  assert.is(b.seq, 7);
  assert.is(b.truncated, 0);
  assert.equal(Array.from(b.ids), [
    0, 269, 2, 1, 1, 1, 1,
    0, 269, 274, 48, 262, 265, 2,
    0, 2, 1, 1, 1, 1, 1,
  ]);
  assert.equal(Array.from(b.mask), [
    1, 1, 1, 0, 0, 0, 0,
    1, 1, 1, 1, 1, 1, 1,
    1, 1, 0, 0, 0, 0, 0,
  ]);
  assert.equal(Array.from(b.typeIds), new Array(21).fill(0));
  assert.instance(b.ids, Int32Array);
});

test('encodeBatch with pairs: segment ids, padding 0', async () => {
  const tok = await loadTokenizer(BERT, 'bert');
  const b = tok.encodeBatch(['Hello', 'The cat'], ['world', ''], 16);
  assert.is(b.seq, 5);
  assert.equal(Array.from(b.ids), [2, 30, 3, 32, 3, 2, 34, 40, 3, 3]);
  assert.equal(Array.from(b.typeIds), [0, 0, 0, 1, 1, 0, 0, 0, 0, 1]);
  assert.equal(Array.from(b.mask), new Array(10).fill(1));
});

test('truncation keeps [CLS] ... [SEP] and counts cut sentences', async () => {
  const tok = await loadTokenizer(BERT, 'bert');
  const b = tok.encodeBatch(['Hello world, the cat', 'Hello world', 'cat'], undefined, 4);
  assert.is(b.seq, 4);
  assert.is(b.truncated, 1);
  assert.equal(Array.from(b.ids), [2, 30, 32, 3, 2, 30, 32, 3, 2, 40, 3, 0]);
  assert.equal(Array.from(b.mask), [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
  // RoBERTa keeps </s> too.
  const r = (await loadTokenizer(ROBERTA, 'roberta')).encodeBatch(['Hello world, the cat'], undefined, 3);
  assert.equal(Array.from(r.ids), [0, 269, 2]);
  assert.is(r.truncated, 1);
});

test('pair truncation is longest_first', async () => {
  const tok = await loadTokenizer(BERT, 'bert');
  const cats = (k: number) => Array(k).fill('cat').join(' ');
  const dogs = (k: number) => Array(k).fill('dog').join(' ');
  const lengths = (a: number, b: number, maxLength: number): [number, number] => {
    const ids = Array.from(tok.encodeBatch([cats(a)], [dogs(b)], maxLength).ids);
    return [ids.filter((i) => i === 40).length, ids.filter((i) => i === 41).length];
  };
  // Only the longer side is cut while the shorter fits.
  assert.equal(lengths(10, 3, 11), [5, 3]);
  assert.equal(lengths(3, 10, 11), [3, 5]);
  // Both cut: half each, the odd token to the longer side (to the second on a tie).
  assert.equal(lengths(10, 10, 10), [3, 4]);
  assert.equal(lengths(6, 5, 10), [4, 3]);
  assert.equal(lengths(5, 6, 10), [3, 4]);
  assert.equal(lengths(4, 4, 11), [4, 4]);
  const b = tok.encodeBatch([cats(10), cats(2)], [dogs(3), dogs(2)], 11);
  assert.is(b.truncated, 1);
  assert.equal(Array.from(b.ids.subarray(0, 11)), [2, 40, 40, 40, 40, 40, 3, 41, 41, 41, 3]);
  assert.equal(Array.from(b.typeIds.subarray(0, 11)), [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
});

test('encode does not truncate', async () => {
  const tok = await loadTokenizer(BERT, 'bert');
  assert.is(tok.encode(Array(600).fill('cat').join(' ')).ids.length, 602);
});

test('maxLength too small for the special tokens is an ExtractError', async () => {
  const bert = await loadTokenizer(BERT, 'bert');
  throwsWith(() => bert.encodeBatch(['cat'], undefined, 2), /--max-length 2 is too small/);
  bert.encodeBatch(['cat'], undefined, 3);
  throwsWith(() => bert.encodeBatch(['cat'], ['dog'], 4), /--max-length 4 is too small.*--max-length 5/);
  bert.encodeBatch(['cat'], ['dog'], 5);
  const roberta = await loadTokenizer(ROBERTA, 'roberta');
  // RoBERTa pairs carry 4 special tokens.
  throwsWith(() => roberta.encodeBatch(['cat'], ['dog'], 5), /too small/);
  assert.is(roberta.encodeBatch(['the cat'], ['the dog'], 6).seq, 6);
  throwsWith(() => bert.encodeBatch(['cat'], undefined, 10.5), /--max-length must be a whole number/);
});

// ---------------------------------------------------------------------------------------------
// (d) errors

test('no tokenizer files', async () => {
  const dir = folder(BERT, [], { 'config.json': '{}' });
  await rejectsWith(loadTokenizer(dir, 'bert'),
    `${dir}: no tokenizer: expected tokenizer.json, vocab.txt (BERT) or vocab.json + merges.txt (RoBERTa)`);
  await rejectsWith(loadTokenizer(join(root, 'missing'), 'roberta'), /missing: no tokenizer: expected tokenizer\.json/);
  await rejectsWith(loadTokenizer(folder(ROBERTA, ['vocab.json']), 'roberta'), /no tokenizer: .*found vocab\.json but no merges\.txt/);
  await rejectsWith(loadTokenizer(folder(ROBERTA, ['vocab.json', 'merges.txt']), 'bert'), /no tokenizer: .*model is BERT but the folder has vocab\.json/);
  await rejectsWith(loadTokenizer(folder(BERT, ['vocab.txt']), 'roberta'), /no tokenizer: .*model is RoBERTa but the folder has vocab\.txt/);
});

test('broken post-processors are ExtractErrors naming tokenizer.json, never raw library errors', async () => {
  const bert = JSON.parse(readFileSync(join(BERT, 'tokenizer.json'), 'utf8'));
  const roberta = JSON.parse(readFileSync(join(ROBERTA, 'tokenizer.json'), 'utf8'));
  const cases: Array<[string, (j: any) => void, unknown, RegExp]> = [
    ['single: null', (j) => { j.post_processor.single = null; }, bert, /tokenizer fails on it \(.+\): the file is malformed/],
    ['a pair entry -1', (j) => { j.post_processor.pair[3] = -1; }, bert, /tokenizer fails on it \(.+\): the file is malformed/],
    ['sep: null', (j) => { j.post_processor.sep = null; }, roberta, /tokenizer fails on it \(.+\): the file is malformed/],
    ['an unknown type', (j) => { j.post_processor = { type: 'toString' }; }, bert, /unsupported or broken tokenizer: Unknown PostProcessor type: toString/],
    ['a template without the sentence', (j) => { j.post_processor.single = j.post_processor.single.filter((e: any) => !e.Sequence); }, bert,
      /post-processor does not keep each sentence exactly once .* every sentence would get the same vector/],
    ['a pair template without B', (j) => { j.post_processor.pair = j.post_processor.pair.slice(0, 3); }, bert, /does not keep each sentence exactly once/],
  ];
  for (const [what, edit, base, pattern] of cases) {
    const j = structuredClone(base) as Record<string, unknown>;
    edit(j);
    const from = base === bert ? BERT : ROBERTA;
    const dir = folder(from, [], { 'tokenizer.json': JSON.stringify(j) });
    try {
      await loadTokenizer(dir, base === bert ? 'bert' : 'roberta');
      assert.unreachable(`${what}: loaded`);
    } catch (e) {
      assert.instance(e, ExtractError, what);
      const msg = (e as Error).message;
      assert.ok(msg.startsWith(`${join(dir, 'tokenizer.json')}: `), `${what}: ${msg}`);
      assert.match(msg, pattern, what);
      assert.not.match(msg, /\n/);
    }
  }
});

test('malformed files', async () => {
  await rejectsWith(loadTokenizer(folder(BERT, [], { 'tokenizer.json': '{"model": ' }), 'bert'), /tokenizer\.json: not valid JSON/);
  await rejectsWith(loadTokenizer(folder(BERT, ['vocab.txt'], { 'tokenizer_config.json': '[1' }), 'bert'), /tokenizer_config\.json: not valid JSON/);
  await rejectsWith(loadTokenizer(folder(BERT, [], { 'tokenizer.json': '[]' }), 'bert'), /tokenizer\.json: expected a JSON object/);
  const json = JSON.parse(readFileSync(join(BERT, 'tokenizer.json'), 'utf8'));
  json.normalizer = { type: 'NoSuchNormalizer' };
  await rejectsWith(loadTokenizer(folder(BERT, [], { 'tokenizer.json': JSON.stringify(json) }), 'bert'),
    /tokenizer\.json: unsupported or broken tokenizer: .*NoSuchNormalizer/);
  await rejectsWith(loadTokenizer(folder(BERT, [], { 'vocab.txt': 'hello\nworld\n' }), 'bert'),
    /vocab\.txt: the special token "\[UNK\]" is not in the vocabulary/);
  await rejectsWith(loadTokenizer(folder(ROBERTA, ['vocab.json'], { 'merges.txt': '#version: 0.2\nĠ t\nbad\n' }), 'roberta'),
    /merges\.txt: line 3 is not a merge/);
  await rejectsWith(loadTokenizer(folder(ROBERTA, ['merges.txt'], { 'vocab.json': '{"<s>": 0, "</s>": "two"}' }), 'roberta'),
    /vocab\.json: the id of "<\/s>" is "two"/);
});

test.run();
