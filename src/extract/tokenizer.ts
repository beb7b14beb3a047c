/**
 * Tokenizers of BERT and RoBERTa checkpoint folders, through `@huggingface/tokenizers` (tokenizers.js).
 *
 * All text processing (normalization, pre-tokenization, WordPiece/BPE, special tokens) is the
 * library's. A folder without `tokenizer.json` gets one built in memory from its `vocab.txt`
 * (BERT) or `vocab.json` + `merges.txt` (RoBERTa), in the serialized format that transformers'
 * fast-tokenizer converters produce, and is then loaded by the same library. This file adds only
 * what the library leaves out: truncation, batching and padding.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { quote } from '../io/errors.js';
import { ExtractError, type TokenBatch } from './types.js';

/** A tokenizer that turns sentences (or sentence pairs) into encoder-ready token ids. */
export interface TextTokenizer {
  /** Where it came from: 'tokenizer.json' | 'wordpiece (vocab.txt)' | 'byte-level bpe (vocab.json + merges.txt)'. */
  readonly kind: string;
  /** Id written into padding positions (their mask is 0). */
  readonly padId: number;
  /**
   * Token ids of one sentence or pair, with the special tokens: `[CLS] a [SEP] (b [SEP])` for
   * BERT, `<s> a </s></s> b </s>` for RoBERTa. Not truncated. `pair` may be `''` (still a pair:
   * BERT gives `[CLS] a [SEP] [SEP]`). `typeIds` are 0 for the first segment and its specials,
   * 1 for the second (BERT); all 0 for RoBERTa, whose single token type cannot encode segments.
   */
  encode(text: string, pair?: string): { ids: number[]; typeIds: number[] };
  /**
   * Encodes a batch, truncated to `maxLength` tokens per row (special tokens included, always
   * kept) and padded to the longest row of the batch, not to `maxLength`. Pairs are truncated
   * "longest_first" as transformers does: the longer side gives up tokens first; if both must
   * give, each keeps half the budget (the longer side the odd token). `truncated` counts the rows
   * that lost tokens.
   * @param pairs second sentences, same length as `texts`, or undefined for single sentences
   * @param maxLength tokens per row; at least the number of special tokens + 1 (+ 2 for pairs)
   * @throws ExtractError when `maxLength` leaves no room for text
   */
  encodeBatch(texts: string[], pairs: string[] | undefined, maxLength: number): TokenBatch;
}

type Json = Record<string, unknown>;
type ModelType = 'bert' | 'roberta';

const KIND_JSON = 'tokenizer.json';
const KIND_WORDPIECE = 'wordpiece (vocab.txt)';
const KIND_BPE = 'byte-level bpe (vocab.json + merges.txt)';

/** Special token names when tokenizer_config.json does not give them (transformers' defaults). */
const DEFAULT_SPECIALS: Record<ModelType, { cls: string; sep: string; pad: string; unk: string; mask: string }> = {
  bert: { cls: '[CLS]', sep: '[SEP]', pad: '[PAD]', unk: '[UNK]', mask: '[MASK]' },
  roberta: { cls: '<s>', sep: '</s>', pad: '<pad>', unk: '<unk>', mask: '<mask>' },
};

/**
 * Loads the tokenizer of a checkpoint folder. Looks for, in order:
 * 1. `tokenizer.json` (with `tokenizer_config.json` when present);
 * 2. BERT: `vocab.txt` (WordPiece). Lower-casing follows `do_lower_case` in tokenizer_config.json
 *    and defaults to **true** when it is absent, as transformers' BertTokenizer does; a cased
 *    checkpoint without that file must add `{"do_lower_case": false}`. `strip_accents` and
 *    `tokenize_chinese_chars` are read too;
 * 3. RoBERTa: `vocab.json` + `merges.txt` (byte-level BPE; a `#version` first line is skipped).
 *
 * As in transformers, explicit settings in tokenizer_config.json (`do_lower_case`,
 * `strip_accents`, `tokenize_chinese_chars` for a BertNormalizer, `add_prefix_space` for a
 * ByteLevel pre-tokenizer) override tokenizer.json. A tokenizer.json without a post-processor gets
 * the standard one of `modelType`. Special token names come from tokenizer_config.json
 * (`cls_token`, `sep_token`, `pad_token`, `unk_token`, `mask_token`), else the defaults above.
 * @param folder checkpoint folder
 * @param modelType config.json's model_type; picks the vocabulary files and the token types
 * @throws ExtractError when no tokenizer is found, a file is malformed, or the library refuses it
 */
export async function loadTokenizer(folder: string, modelType: ModelType): Promise<TextTokenizer> {
  const configPath = join(folder, 'tokenizer_config.json');
  const configText = await readOptional(configPath);
  const config = configText === undefined ? {} : parseJsonObject(configText, configPath);
  const names = specialNames(config, modelType);

  const jsonPath = join(folder, 'tokenizer.json');
  const jsonText = await readOptional(jsonPath);
  let json: Json;
  let kind: string;
  let source: string;
  if (jsonText !== undefined) {
    json = parseJsonObject(jsonText, jsonPath);
    reconcileWithConfig(json, config, modelType, names);
    kind = KIND_JSON;
    source = jsonPath;
  } else {
    const vocabTxt = await readOptional(join(folder, 'vocab.txt'));
    const vocabJson = await readOptional(join(folder, 'vocab.json'));
    const merges = await readOptional(join(folder, 'merges.txt'));
    if (modelType === 'bert' && vocabTxt !== undefined) {
      json = buildWordPieceJson(vocabTxt, join(folder, 'vocab.txt'), config, names);
      kind = KIND_WORDPIECE;
      source = join(folder, 'vocab.txt');
    } else if (modelType === 'roberta' && vocabJson !== undefined && merges !== undefined) {
      json = buildByteLevelBpeJson(vocabJson, merges, folder, config, names);
      kind = KIND_BPE;
      source = join(folder, 'vocab.json');
    } else {
      throw new ExtractError(missingMessage(folder, modelType, vocabTxt, vocabJson, merges));
    }
  }

  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(json, config);
  } catch (e) {
    throw new ExtractError(`${source}: unsupported or broken tokenizer: ${libraryMessage(e)}; re-download it or fix the file`);
  }
  const padId = libraryCall(source, () => padIdOf(tokenizer, json, names, modelType));
  return new LibraryTokenizer(tokenizer, kind, source, modelType, padId);
}

/** The message of an error thrown by the library, bounded (it may hold pieces of the file). */
function libraryMessage(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.length <= 200 && !/[\n\r\u2028\u2029]/.test(text) ? text : quote(text, 200);
}

/**
 * Runs a call into the library: a malformed tokenizer.json (a post-processor with `single: null`,
 * a template entry `-1`, `sep: null`, ...) surfaces as a TypeError deep inside it, at load or at
 * the first sentence; it becomes an ExtractError naming the file.
 */
function libraryCall<T>(source: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ExtractError) throw e;
    throw new ExtractError(`${source}: the tokenizer fails on it (${libraryMessage(e)}): the file is malformed; re-download it or fix the file`);
  }
}

/** Stands for a sentence's tokens when probing the post-processor: no vocabulary holds it. */
const PROBE_A = '\u0000isotropy-probe-a';
const PROBE_B = '\u0000isotropy-probe-b';

/** One segment after the library's normalization, pre-tokenization and model, before specials. */
interface Segment {
  tokens: string[];
  ids: number[];
}

class LibraryTokenizer implements TextTokenizer {
  /** Special tokens the post-processor adds around one sentence / a pair. */
  private readonly specialsSingle: number;
  private readonly specialsPair: number;

  constructor(
    private readonly tokenizer: Tokenizer,
    readonly kind: string,
    private readonly source: string,
    private readonly modelType: ModelType,
    readonly padId: number,
  ) {
    this.specialsSingle = this.postProcess([], null).tokens.length;
    this.specialsPair = this.postProcess([], []).tokens.length;
    if (this.specialsSingle === 0) {
      // The encoder reads the vector at position 0: without a [CLS]/<s> there it would read a word.
      throw new ExtractError(`${source}: its post-processor adds no special tokens, so there is no [CLS] vector; use a tokenizer.json with BertProcessing, RobertaProcessing or TemplateProcessing`);
    }
    // A template that leaves out the sentence ($A / $B) turns every input into the same few special
    // tokens, and so every embedding into the same vector.
    const single = this.postProcess([PROBE_A], null).tokens;
    const pair = this.postProcess([PROBE_A], [PROBE_B]).tokens;
    const count = (tokens: string[], t: string) => tokens.filter((x) => x === t).length;
    if (count(single, PROBE_A) !== 1 || count(pair, PROBE_A) !== 1 || count(pair, PROBE_B) !== 1) {
      throw new ExtractError(
        `${source}: its post-processor does not keep each sentence exactly once (its "single" or "pair" template lacks or repeats the Sequence A / B entry), so every sentence would get the same vector; fix the template or re-download the file`,
      );
    }
  }

  encode(text: string, pair?: string): { ids: number[]; typeIds: number[] } {
    return this.assemble(this.segment(text), pair === undefined ? null : this.segment(pair));
  }

  encodeBatch(texts: string[], pairs: string[] | undefined, maxLength: number): TokenBatch {
    if (pairs !== undefined && pairs.length !== texts.length) {
      throw new RangeError(`encodeBatch: ${texts.length} texts but ${pairs.length} pairs`);
    }
    const specials = pairs === undefined ? this.specialsSingle : this.specialsPair;
    const least = specials + (pairs === undefined ? 1 : 2);
    if (!Number.isInteger(maxLength)) {
      throw new ExtractError(`--max-length must be a whole number of tokens, not ${maxLength}`);
    }
    if (maxLength < least) {
      throw new ExtractError(`--max-length ${maxLength} is too small: ${pairs === undefined ? 'a sentence' : 'a pair'} needs ${specials} special tokens plus at least ${least - specials} of text; use --max-length ${least} or more (128 is usual)`);
    }
    const budget = maxLength - specials;
    const rows: { ids: number[]; typeIds: number[] }[] = [];
    let truncated = 0;
    for (let i = 0; i < texts.length; i++) {
      const a = this.segment(texts[i]);
      const b = pairs === undefined ? null : this.segment(pairs[i]);
      const [keepA, keepB] = truncatedLengths(a.ids.length, b === null ? null : b.ids.length, budget);
      if (keepA < a.ids.length || (b !== null && keepB < b.ids.length)) {
        truncated++;
        rows.push(this.assemble(cut(a, keepA), b === null ? null : cut(b, keepB)));
      } else {
        rows.push(this.assemble(a, b));
      }
    }
    const seq = rows.reduce((m, r) => Math.max(m, r.ids.length), 0);
    const batch = rows.length;
    const ids = new Int32Array(batch * seq).fill(this.padId);
    const mask = new Int32Array(batch * seq);
    const typeIds = new Int32Array(batch * seq);
    rows.forEach((r, i) => {
      ids.set(r.ids, i * seq);
      mask.fill(1, i * seq, i * seq + r.ids.length);
      typeIds.set(r.typeIds, i * seq);
    });
    return { ids, mask, typeIds, batch, seq, truncated };
  }

  private segment(text: string): Segment {
    const { ids, tokens } = libraryCall(this.source, () => this.tokenizer.encode(text, { add_special_tokens: false }));
    return { ids, tokens };
  }

  private postProcess(a: string[], b: string[] | null): { tokens: string[]; token_type_ids?: number[] } {
    const post = this.tokenizer.post_processor;
    if (post === null) return { tokens: b === null ? a : [...a, ...b] };
    const out = libraryCall(this.source, () => post(a, b, true));
    if (!Array.isArray(out?.tokens) || !out.tokens.every((t: unknown) => typeof t === 'string')) {
      throw new ExtractError(`${this.source}: its post-processor returns no token list: the file is malformed; re-download it or fix the file`);
    }
    return out;
  }

  /**
   * Adds the special tokens with the library's post-processor. It works on token strings, so the
   * ids come back from the segments (the library's own string -> id map, which also resolves
   * normalized added tokens) and, for the inserted specials, from the vocabulary.
   */
  private assemble(a: Segment, b: Segment | null): { ids: number[]; typeIds: number[] } {
    const out = this.postProcess(a.tokens, b === null ? null : b.tokens);
    const known = new Map<string, number>();
    for (const s of b === null ? [a] : [a, b]) s.tokens.forEach((t, i) => known.set(t, s.ids[i]));
    const ids = out.tokens.map((t) => {
      const id = known.get(t) ?? libraryCall(this.source, () => this.tokenizer.token_to_id(t));
      if (typeof id !== 'number' || !Number.isInteger(id)) {
        throw new ExtractError(`${this.source}: token ${quote(t)} has no id (is the unknown token in the vocabulary?)`);
      }
      return id;
    });
    const types = out.token_type_ids;
    const typeIds = this.modelType === 'roberta' || types === undefined
      ? new Array<number>(ids.length).fill(0)
      : ids.map((_, i) => types[i] ?? 0);
    return { ids, typeIds };
  }
}

function cut(s: Segment, keep: number): Segment {
  return { tokens: s.tokens.slice(0, keep), ids: s.ids.slice(0, keep) };
}

/**
 * Lengths to keep under transformers' "longest_first" with `budget` text tokens: a single
 * sentence keeps `budget`; a pair cuts only the longer side if the shorter fits in what remains,
 * else both keep half (the longer side, or the second on a tie, gets the odd token).
 */
function truncatedLengths(n1: number, n2: number | null, budget: number): [number, number] {
  if (n2 === null) return [Math.min(n1, budget), 0];
  if (n1 + n2 <= budget) return [n1, n2];
  const short = Math.min(n1, n2);
  let keepShort = short;
  let keepLong = short > budget ? short : Math.max(short, budget - short);
  if (keepShort + keepLong > budget) {
    keepShort = Math.floor(budget / 2);
    keepLong = keepShort + (budget % 2);
  }
  return n1 > n2 ? [keepLong, keepShort] : [keepShort, keepLong];
}

// ---------------------------------------------------------------------------------------------
// Files

async function readOptional(path: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new ExtractError(`${path}: cannot read: ${(e as Error).message}`);
  }
  // Files saved by Windows editors may start with a BOM, which JSON.parse and vocab lines reject.
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function parseJsonObject(text: string, path: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ExtractError(`${path}: not valid JSON (${(e as Error).message}); re-download or re-save it`);
  }
  if (!isObject(value)) throw new ExtractError(`${path}: expected a JSON object`);
  return value;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function missingMessage(folder: string, modelType: ModelType, vocabTxt?: string, vocabJson?: string, merges?: string): string {
  const base = `${folder}: no tokenizer: expected tokenizer.json, vocab.txt (BERT) or vocab.json + merges.txt (RoBERTa)`;
  if (modelType === 'bert' && vocabJson !== undefined) {
    return `${base}; the model is BERT but the folder has vocab.json (a RoBERTa-style vocabulary)`;
  }
  if (modelType === 'roberta' && vocabTxt !== undefined) {
    return `${base}; the model is RoBERTa but the folder has vocab.txt (a BERT-style vocabulary)`;
  }
  if (modelType === 'roberta' && (vocabJson === undefined) !== (merges === undefined)) {
    return `${base}; found ${vocabJson === undefined ? 'merges.txt but no vocab.json' : 'vocab.json but no merges.txt'}`;
  }
  return base;
}

// ---------------------------------------------------------------------------------------------
// tokenizer_config.json

interface SpecialNames {
  cls: string;
  sep: string;
  pad: string;
  unk: string;
  mask: string;
}

function specialNames(config: Json, modelType: ModelType): SpecialNames {
  const d = DEFAULT_SPECIALS[modelType];
  // Older configs store special tokens as serialized AddedToken objects instead of strings.
  const name = (key: string, fallback: string): string => {
    const v = config[key];
    if (typeof v === 'string') return v;
    if (isObject(v) && typeof v.content === 'string') return v.content;
    return fallback;
  };
  return {
    cls: name('cls_token', d.cls),
    sep: name('sep_token', d.sep),
    pad: name('pad_token', d.pad),
    unk: name('unk_token', d.unk),
    mask: name('mask_token', d.mask),
  };
}

/** Applies what transformers' fast BERT/RoBERTa tokenizers take from tokenizer_config.json. */
function reconcileWithConfig(json: Json, config: Json, modelType: ModelType, names: SpecialNames): void {
  // The library's constructor insists on these keys; hand-made files sometimes leave them out.
  for (const key of ['normalizer', 'pre_tokenizer', 'post_processor', 'decoder']) {
    if (!(key in json)) json[key] = null;
  }
  if (!Array.isArray(json.added_tokens)) json.added_tokens = [];
  const normalizer = json.normalizer;
  if (isObject(normalizer) && normalizer.type === 'BertNormalizer') {
    if (typeof config.do_lower_case === 'boolean') normalizer.lowercase = config.do_lower_case;
    if ('strip_accents' in config) normalizer.strip_accents = config.strip_accents;
    if (typeof config.tokenize_chinese_chars === 'boolean') normalizer.handle_chinese_chars = config.tokenize_chinese_chars;
  }
  const pre = json.pre_tokenizer;
  if (isObject(pre) && pre.type === 'ByteLevel' && typeof config.add_prefix_space === 'boolean') {
    pre.add_prefix_space = config.add_prefix_space;
  }
  if (json.post_processor === null && isObject(json.model)) {
    json.post_processor = standardPostProcessor(modelType, names, (t) => idInJson(json, t));
  }
}

function idInJson(json: Json, token: string): number {
  for (const a of json.added_tokens as unknown[]) {
    if (isObject(a) && a.content === token && typeof a.id === 'number') return a.id;
  }
  const vocab = isObject(json.model) ? json.model.vocab : undefined;
  if (isObject(vocab) && Object.hasOwn(vocab, token) && typeof vocab[token] === 'number') return vocab[token];
  // Only informative: the library's post-processors look the token up by its string.
  return -1;
}

function standardPostProcessor(modelType: ModelType, names: SpecialNames, idOf: (t: string) => number): Json {
  return modelType === 'bert'
    ? { type: 'BertProcessing', sep: [names.sep, idOf(names.sep)], cls: [names.cls, idOf(names.cls)] }
    : { type: 'RobertaProcessing', sep: [names.sep, idOf(names.sep)], cls: [names.cls, idOf(names.cls)], trim_offsets: true, add_prefix_space: false };
}

function padIdOf(tokenizer: Tokenizer, json: Json, names: SpecialNames, modelType: ModelType): number {
  const byName = tokenizer.token_to_id(names.pad);
  if (byName !== undefined) return byName;
  const padding = json.padding;
  if (isObject(padding) && typeof padding.pad_id === 'number') return padding.pad_id;
  // Padding positions are masked, so any valid id works; these are the usual ones.
  return modelType === 'roberta' ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Builders: the tokenizer.json that transformers' converters would write for vocab-only folders

function addedToken(id: number, content: string, lstrip = false): Json {
  return { id, content, single_word: false, lstrip, rstrip: false, normalized: false, special: true };
}

function addedTokens(vocab: Record<string, number>, names: SpecialNames, modelType: ModelType): Json[] {
  const seen = new Set<string>();
  const out: Json[] = [];
  for (const [key, t] of Object.entries(names) as [keyof SpecialNames, string][]) {
    if (seen.has(t) || !(t in vocab)) continue;
    seen.add(t);
    // RoBERTa's mask swallows the space before it ("a <mask>"), as transformers defines it.
    out.push(addedToken(vocab[t], t, key === 'mask' && modelType === 'roberta'));
  }
  return out.sort((x, y) => (x.id as number) - (y.id as number));
}

function requireTokens(vocab: Record<string, number>, path: string, tokens: string[]): void {
  for (const t of tokens) {
    if (!(t in vocab)) {
      throw new ExtractError(`${path}: the special token ${quote(t)} is not in the vocabulary; add tokenizer.json or set its name in tokenizer_config.json`);
    }
  }
}

function buildWordPieceJson(text: string, path: string, config: Json, names: SpecialNames): Json {
  // A null-prototype object so that a token like "__proto__" is stored as a key.
  const vocab: Record<string, number> = Object.create(null) as Record<string, number>;
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  // Line number is the id; a repeated token keeps its last line, as transformers' load_vocab does.
  lines.forEach((line, i) => {
    vocab[line.endsWith('\r') ? line.slice(0, -1) : line] = i;
  });
  requireTokens(vocab, path, [names.unk, names.cls, names.sep]);
  const lowercase = typeof config.do_lower_case === 'boolean' ? config.do_lower_case : true;
  const stripAccents = typeof config.strip_accents === 'boolean' ? config.strip_accents : null;
  const chinese = typeof config.tokenize_chinese_chars === 'boolean' ? config.tokenize_chinese_chars : true;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens(vocab, names, 'bert'),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: chinese, strip_accents: stripAccents, lowercase },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: standardPostProcessor('bert', names, (t) => vocab[t]),
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: names.unk,
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab,
    },
  };
}

function buildByteLevelBpeJson(vocabText: string, mergesText: string, folder: string, config: Json, names: SpecialNames): Json {
  const vocabPath = join(folder, 'vocab.json');
  const mergesPath = join(folder, 'merges.txt');
  const parsed = parseJsonObject(vocabText, vocabPath);
  const vocab: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const [token, id] of Object.entries(parsed)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      throw new ExtractError(`${vocabPath}: the id of ${quote(token)} is ${quote(id)}, not a non-negative integer`);
    }
    vocab[token] = id;
  }
  const merges: [string, string][] = [];
  mergesText.split('\n').forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if ((i === 0 && line.startsWith('#version')) || line.trim() === '') return;
    const parts = line.split(' ');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
      throw new ExtractError(`${mergesPath}: line ${i + 1} is not a merge ("left right"): ${quote(line)}`);
    }
    merges.push([parts[0], parts[1]]);
  });
  requireTokens(vocab, vocabPath, [names.cls, names.sep]);
  const addPrefixSpace = typeof config.add_prefix_space === 'boolean' ? config.add_prefix_space : false;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens(vocab, names, 'roberta'),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: addPrefixSpace, trim_offsets: true, use_regex: true },
    post_processor: standardPostProcessor('roberta', names, (t) => vocab[t]),
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      // Byte-level BPE covers every byte, so RoBERTa has no unknown token at the model level.
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}
