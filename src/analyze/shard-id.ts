import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { quote } from '../io/index.js';
import { StatsError, type StatsSource } from '../stats/index.js';
import type { RowRange } from './first-pass.js';

/** `--shard i/N`: part `index` (0-based) of `count` row ranges of one file. */
export interface ShardPart {
  index: number;
  count: number;
}

/**
 * Parses `i/N` (0 <= i < N, as SLURM's `$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT`).
 * @throws StatsError naming the option (`what`) for anything else
 */
export function parseShardPart(spec: string | ShardPart, what = 'shard'): ShardPart {
  const m = typeof spec === 'string' ? /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(spec) : null;
  const p = typeof spec === 'string' ? (m ? { index: Number(m[1]), count: Number(m[2]) } : null) : spec;
  if (!p || !Number.isSafeInteger(p.index) || !Number.isSafeInteger(p.count) || p.count < 1 || p.index < 0 || p.index >= p.count) {
    throw new StatsError(`${what} must be i/N with 0 <= i < N (e.g. 0/4 for the first of four parts), got ${quote(typeof spec === 'string' ? spec : `${spec.index}/${spec.count}`)}`);
  }
  return p;
}

/**
 * Rows of part i of N of a file of `rows` rows: N contiguous ranges, as equal as `align` allows.
 * With `align` > 1 every range but the last starts and ends on a multiple of it, so the batches
 * of isobn-running never straddle two shards.
 */
export function shardRange(rows: number, part: ShardPart, align = 1): RowRange {
  const units = Math.ceil(rows / align);
  const at = (i: number) => Math.min(rows, align * Math.floor((i * units) / part.count));
  return { start: at(part.index), end: at(part.index + 1) };
}

/** Bytes at the start of a file that, with its size, tell files apart ({@link fileFingerprint}). */
const FINGERPRINT_BYTES = 64 * 1024;

/**
 * What identifies a file whatever its path: 32 hex digits of sha256 over its size and its first
 * 64 KiB (the header and the first rows). The parts of one file share it wherever they are read,
 * and a file moved between the rounds (a node's scratch disk) keeps it, while different files
 * that sit at the same path on different machines differ.
 */
export async function fileFingerprint(path: string): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const head = Buffer.alloc(Math.min(size, FINGERPRINT_BYTES));
    let got = 0;
    while (got < head.length) {
      const { bytesRead } = await fh.read(head, got, head.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return createHash('sha256').update(`${size}\n`).update(head.subarray(0, got)).digest('hex').slice(0, 32);
  } finally {
    await fh.close();
  }
}

/**
 * The identity of the file an input name stands for: its absolute path and fingerprint for one
 * local file; for a dataset of several files (a directory, a glob) or a remote file, the name
 * itself (made absolute unless it is a URL), which is what names it on every machine.
 */
export async function inputIdentity(name: string, source: { files?: readonly unknown[] }): Promise<{ resolved: string; fingerprint?: string }> {
  if (source.files) return { resolved: /^(https?|hf):\/\//i.test(name) ? name : resolvePath(name) };
  return { resolved: resolvePath(name), fingerprint: await fileFingerprint(name) };
}

/** The identity of a shard's file: the same file (and layer) gives the same key wherever the shard was made. */
export function fileKey(s: StatsSource): string {
  return JSON.stringify([s.fingerprint ?? s.resolved ?? s.path, s.layer ?? null]);
}

/** Rows of a source's file in this shard. */
export function sourceRange(s: StatsSource): [number, number] {
  return s.range ?? [0, s.rows];
}

/** A shard's id: 32 hex digits of sha256 over its file (fingerprint, else path), row range, part and statistics digest. */
export function shardId(s: StatsSource, statsDigest: string): string {
  const text = JSON.stringify([s.fingerprint ?? s.resolved ?? s.path, s.layer ?? null, sourceRange(s), s.part ?? null, statsDigest]);
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

/** One input of a merge (a shard file, or statistics merged earlier): its name, rows and shards. */
export interface ShardInput {
  /** what the user called it (its file name), for messages */
  label: string;
  /** count of usable rows */
  count: number;
  /** rows it holds, dropped ones included (count + nonfiniteRows) */
  rows: number;
  /** its statistics' digest */
  digest: string;
  /** the shards it holds; empty for statistics without provenance (they count as rows of their own) */
  sources: readonly StatsSource[];
}

/** A shard in the canonical order, with everything the second round needs to find and check it. */
export interface OrderedSource extends StatsSource {
  id: string;
  /** index of the merge input that holds it */
  input: number;
  /** index of the row `range[0]` in the concatenation of all files (files in order of first appearance; complete sets) */
  offset: number;
}

/**
 * Checks that a set of merge inputs holds each row once, and puts the shards in their canonical
 * order: files in the order they first appear, each file's shards by row range.
 *
 * Refuses: the same shard twice (same id: file, range and statistics), two shards with identical
 * statistics, two shards whose row ranges overlap, a file whose rows are not all covered (a
 * missing `--shard` part; unless `allowMissing`, for merging some shards now and the rest later),
 * and one path with two different row counts (the file changed between shards). Shards made
 * before shards had ids get one from their file, range and statistics.
 *
 * @returns the inputs in canonical order (`order`, indices into `inputs`), every shard in that
 *          order with its row offset (files in order of first appearance, each file's shards
 *          after the covered rows of the files before), the rows covered, and what is missing
 * @throws StatsError naming the inputs involved
 */
export function orderShards(
  inputs: readonly ShardInput[],
  opts: { allowMissing?: boolean } = {},
): { order: number[]; sources: OrderedSource[]; rows: number; missing: string | null } {
  const files = new Map<string, { first: number; rows: number; label: string; ranges: Array<{ r: [number, number]; label: string }> }>();
  const ids = new Map<string, string>();
  const digests = new Map<string, string>();
  const all: Array<Omit<OrderedSource, 'offset'> & { file: string }> = [];
  inputs.forEach((inp, k) => {
    if (inp.count > 0) {
      const seen = digests.get(inp.digest);
      if (seen !== undefined) throw new StatsError(`${seen} and ${inp.label} hold identical statistics: the same rows given twice; give each shard once`);
      digests.set(inp.digest, inp.label);
    }
    // Statistics without provenance (built with the API) stand for rows of their own.
    const own = inp.sources.length === 0;
    const list: readonly StatsSource[] = own ? [{ path: inp.label, rows: inp.rows }] : inp.sources;
    for (const s of list) {
      const id = s.id ?? shardId(s, s.stats ?? (list.length === 1 ? inp.digest : ''));
      const dup = ids.get(id);
      if (dup !== undefined) {
        throw new StatsError(`${dup === inp.label ? `${inp.label} holds` : `${dup} and ${inp.label} hold`} the same shard (${describe(s)}, id ${id}) twice: give each shard once`);
      }
      ids.set(id, inp.label);
      const file = own ? `own:${k}` : fileKey(s);
      let f = files.get(file);
      if (!f) files.set(file, (f = { first: files.size, rows: s.rows, label: inp.label, ranges: [] }));
      if (f.rows !== s.rows) {
        throw new StatsError(`${f.label} and ${inp.label} read ${quote(s.path)} with ${f.rows} and ${s.rows} rows: the file changed between shards; run isotropy stats again on every shard`);
      }
      const r = sourceRange(s);
      for (const o of f.ranges) {
        if (r[0] < o.r[1] && o.r[0] < r[1]) {
          throw new StatsError(`${o.label} (rows ${o.r[0]}-${o.r[1]}) and ${inp.label} (rows ${r[0]}-${r[1]}) of ${quote(s.path)} overlap: those rows would count twice; give each row range once`);
        }
      }
      f.ranges.push({ r, label: inp.label });
      all.push({ ...s, id, input: k, file });
    }
  });
  let rows = 0;
  const gaps: string[] = [];
  const fileOffset = new Map<string, number>();
  for (const [key, f] of [...files].sort((a, b) => a[1].first - b[1].first)) {
    const covered = f.ranges.reduce((s, o) => s + o.r[1] - o.r[0], 0);
    if (covered !== f.rows) {
      const parts = all.filter((s) => s.file === key && s.part).map((s) => s.part!);
      const n = parts[0]?.[1];
      const missing = n !== undefined && parts.every((p) => p[1] === n)
        ? `; missing part(s) ${Array.from({ length: n }, (_, i) => i).filter((i) => !parts.some((p) => p[0] === i)).map((i) => `${i}/${n}`).join(', ')}`
        : '';
      gaps.push(`${quote(all.find((s) => s.file === key)!.path)}: the shards hold ${covered} of its ${f.rows} rows${missing}`);
    }
    fileOffset.set(key, rows);
    rows += covered;
  }
  const sources: OrderedSource[] = all
    .map(({ file, ...s }) => ({ ...s, offset: fileOffset.get(file)! + sourceRange(s)[0] }))
    .sort((a, b) => a.offset - b.offset);
  const order: number[] = [];
  for (const s of sources) if (!order.includes(s.input)) order.push(s.input);
  const missing = gaps.length ? `${gaps.join('; ')}: give every shard of the file (or make them all with the same --shard i/N count)` : null;
  if (missing && !opts.allowMissing) throw new StatsError(missing);
  return { order, sources, rows, missing };
}

/** `file.npy rows 0-100 (part 0/4)` for messages. */
export function describe(s: StatsSource): string {
  const r = sourceRange(s);
  return `${quote(s.path)} rows ${r[0]}-${r[1]}${s.part ? ` (part ${s.part[0]}/${s.part[1]})` : ''}`;
}
