import type { MomentMetrics } from '../stats/index.js';
import type { TransformName } from '../transforms/index.js';

/** Version tag of the `--json` output; other tools key on it. */
export const ANALYSIS_SCHEMA = 'isotropy.analysis/v1';

/** One analysed input, as the header of the table and `inputs[]` of the JSON. */
export interface InputInfo {
  path: string;
  /** rows in the file (or in all shards), dropped ones included */
  rows: number;
  dims: number;
  /** numpy dtype string of the file, e.g. "<f4" */
  dtype: string;
  fortranOrder: boolean;
  /** full array shape when it is not (rows, dims), e.g. (n, L, d) */
  shape?: number[];
  /** layer analysed, for (n, L, d) input */
  layer?: number;
  /** rows skipped for NaN/Inf (--drop-nonfinite) */
  droppedRows: number;
  /** all-zero rows, left out of the average cosine */
  zeroRows: number;
  /** shard files merged into this input (`isotropy merge`) */
  shards?: string[];
  /**
   * the files the rows were read from, in row order, when there are several (a directory, a glob,
   * `--concat`) or the input is remote; absent for one local file
   */
  files?: InputFile[];
  /**
   * sha256 of the file's bytes, hex (absent for in-memory sources, datasets of several files, whose
   * `files` carry theirs, and remote files not read whole)
   */
  sha256?: string;
  /** the name the report shows (`--label`); default: the file name */
  label?: string;
  /**
   * layers analysed, 0-based indices into the file's layer axis, when several layers of an
   * (n, L, d) input were analysed in one run (`--layers`); each result then carries its `layer`
   */
  layers?: number[];
}

/** One file of an input read from several files, or a remote one. */
export interface InputFile {
  /** the path or URL as named (after a directory or glob was expanded) */
  path: string;
  /** rows read from it */
  rows: number;
  /**
   * sha256 of its bytes, hex: always for a local file; for a remote one only when the analysis
   * read every byte of it (else `etag` and `size` identify it)
   */
  sha256?: string;
  /** remote: its size in bytes */
  size?: number;
  /** remote: the server's ETag, when it sent a strong one */
  etag?: string;
  /** remote: bytes fetched to analyse it (retries included), to compare with `size` */
  fetched?: number;
}

/** The metrics of one input under one transform ("none" = the input as it is). */
export interface TransformResult extends MomentMetrics {
  input: number;
  transform: 'none' | TransformName;
  /** I(W) of Mu & Viswanath; needs a second pass over the rows, null without one */
  partitionIsotropy: number | null;
  /** null with fewer than 2 non-zero rows, or for a transform when the rows were not reread */
  avgCosine: number | null;
  /** IsoBN's per-dimension factors (isobn, isobn-running only) */
  scale?: number[];
  /** the transform's parameters, defaults filled in (absent for "none") */
  params?: Record<string, number>;
  /** the layer (0-based index into the file's layer axis) of this result, when `inputs[i].layers` is set */
  layer?: number;
  /**
   * why a metric is null although it was asked for, keyed by its path in this object
   * (`"isoScore"`, `"spectrum.condition"`, `"partitionIsotropy"`, ...); absent when none is
   */
  nullReasons?: Record<string, string>;
  /**
   * rogue dimensions (Timkey & van Schijndel, 2021): the dims with the largest share of
   * `avgCosine`, largest first (at most 10); the shares of all d dims sum to `avgCosine`
   */
  rogueDims?: { dim: number; share: number }[] | null;
}

/** Histogram with `counts[k]` values in `[edges[k], edges[k + 1])` (the last bin closed). */
export interface Histogram {
  edges: number[];
  counts: number[];
}

/**
 * A square matrix of values in [0, 1] as an 8-bit raster: byte `round(255 v)` per entry, row-major,
 * base64. Compact enough for d = 1024 in JSON, exact enough for a colour scale.
 */
export interface UnitRaster {
  dims: number;
  encoding: 'u8-base64';
  data: string;
}

/**
 * The per-dimension arrays the report draws for one input under one transform (the same `input`
 * and `transform` as the matching entry of `results`). Not needed for the metrics themselves.
 */
export interface ViewDiagnostics {
  input: number;
  transform: 'none' | TransformName;
  /** per-dimension biased std s_i of the view (length d' of the view) */
  std: number[];
  /**
   * IsoBN's ingredients (isobn, isobn-running): the stds s_i and gamma_i = mean_j rho_ij^2 it used;
   * its factors a_i are the result's `scale`
   */
  isobn?: { std: number[]; gamma: number[] };
  /** off-diagonal Pearson correlations rho_ij, i < j, constant dims left out: 40 bins over [-1, 1] */
  corrHistogram: Histogram;
  /**
   * |rho_ij| of the view; null when the view's transform is a per-dimension rescaling (IsoBN,
   * standardize), which leaves every correlation as it was: the input's raster applies
   */
  corrAbs: UnitRaster | null;
  /**
   * The sampled rows in this view, centred and projected on its top two principal axes
   * (units of the view); `variance` is the fraction of the total variance each axis carries.
   * null when the rows were not available (statistics merged from shards)
   */
  pca: { x: number[]; y: number[]; variance: [number, number] } | null;
  /** the layer of this view, as in the matching result */
  layer?: number;
  /**
   * every dimension's share of the average cosine (rogue dimensions, see `TransformResult.rogueDims`),
   * for the input as read ("none") only; absent when the statistics had no squared sums
   */
  rogueShares?: number[];
}

/** Which rows the PCA scatter shows: a seeded uniform sample without replacement. */
export interface SampleInfo {
  input: number;
  /** rows in the sample (at most the requested size; fewer when the input is smaller) */
  rows: number;
  seed: number;
}

/** What `isotropy analyze --json` prints. */
export interface Analysis {
  schema: typeof ANALYSIS_SCHEMA;
  inputs: InputInfo[];
  results: TransformResult[];
  /** arrays for the report, one per result in the same order; absent when not computed */
  diagnostics?: ViewDiagnostics[];
  /** the PCA sample of each input */
  samples?: SampleInfo[];
  /** the tool that made it, and when */
  tool?: { name: string; version: string; date: string };
  /** the kernels that computed it (for the largest input): backend name, compute threads, library */
  backend?: { name: string; threads: number; detail?: string };
}
