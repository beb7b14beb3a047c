import type { TransformResult } from '../analyze/schema.js';

/** Which way a metric moves when the embedding becomes more isotropic. */
export type Better = 'higher' | 'lower' | 'toward0' | null;

/** One metric of the report: how to read it, its isotropic value, how to draw it. */
export interface MetricDef {
  /** its path in a {@link TransformResult}, as in `nullReasons` */
  key: string;
  name: string;
  /** a short name for chart axes */
  short: string;
  /** one sentence: how to read the metric */
  read: string;
  /** the value of a perfectly isotropic embedding with d dimensions, as text */
  isotropic: (d: number) => string;
  /** the same as a number, for charts; null when there is none ("any") */
  isoValue: (d: number) => number | null;
  better: Better;
  /**
   * true for metrics whose values span orders of magnitude (I(W), the condition number): drawn on
   * log axes, their changes given as ratios (×275, /1e7) rather than percentages
   */
  log: boolean;
  /** shown in the "at a glance" and per-layer charts */
  headline: boolean;
  value: (r: TransformResult) => number | null;
}

const pct = (f: number) => `${Number((100 * f).toPrecision(2))}%`;

/** The metrics of the report, in the order of the summary table. */
export const METRICS: readonly MetricDef[] = [
  {
    key: 'isoScore', name: 'IsoScore', short: 'IsoScore', better: 'higher', log: false, headline: true, value: (r) => r.isoScore,
    read: 'How evenly the variance is spread over all directions (Rudman et al., 2022); 0 when it lies along a single direction.',
    isotropic: () => '1', isoValue: () => 1,
  },
  {
    key: 'partitionIsotropy', name: 'I(W), partition isotropy', short: 'I(W)', better: 'higher', log: true, headline: true, value: (r) => r.partitionIsotropy,
    read: 'Mu & Viswanath\'s smallest over largest partition function Z(c) over the principal directions; it sees a common mean as well as unequal spread.',
    isotropic: () => '1', isoValue: () => 1,
  },
  {
    key: 'avgCosine', name: 'Average cosine similarity', short: 'avg cosine', better: 'toward0', log: false, headline: true, value: (r) => r.avgCosine,
    read: 'Mean cosine between two different rows; near 1 when all vectors point the same way (the "narrow cone").',
    isotropic: () => '0', isoValue: () => 0,
  },
  {
    key: 'meanNorm', name: 'Length of the mean vector', short: '|mean|', better: 'lower', log: false, headline: false, value: (r) => r.meanNorm,
    read: 'Norm of the average row, in the embedding\'s units: an offset every row shares.',
    isotropic: () => '0', isoValue: () => 0,
  },
  {
    key: 'std.cv', name: 'Spread of the per-dimension std', short: 'std cv', better: 'lower', log: false, headline: true, value: (r) => r.std.cv,
    read: 'Coefficient of variation (std over mean) of the per-dimension standard deviations s_i: how unequal the dimensions\' scales are (the paper\'s Figure 1).',
    isotropic: () => '0', isoValue: () => 0,
  },
  {
    key: 'std.mean', name: 'Mean per-dimension std', short: 'std mean', better: null, log: false, headline: false, value: (r) => r.std.mean,
    read: 'Average s_i, in the embedding\'s units: a scale, not a measure of isotropy (IsoBN keeps the total variance).',
    isotropic: () => 'any', isoValue: () => null,
  },
  {
    key: 'std.min', name: 'Smallest per-dimension std', short: 'std min', better: null, log: false, headline: false, value: (r) => r.std.min,
    read: 'The s_i of the least spread-out dimension.',
    isotropic: () => 'the mean', isoValue: () => null,
  },
  {
    key: 'std.max', name: 'Largest per-dimension std', short: 'std max', better: null, log: false, headline: false, value: (r) => r.std.max,
    read: 'The s_i of the most spread-out dimension; far above the mean when a few dimensions dominate.',
    isotropic: () => 'the mean', isoValue: () => null,
  },
  {
    key: 'corr.meanAbs', name: 'Mean |correlation|', short: 'mean |ρ|', better: 'lower', log: false, headline: true, value: (r) => r.corr.meanAbs,
    read: 'Average |ρ_ij| over pairs of dimensions (the paper\'s Figure 2); rescaling each dimension, as IsoBN does, leaves it unchanged.',
    isotropic: () => '0', isoValue: () => 0,
  },
  {
    key: 'corr.maxAbs', name: 'Largest |correlation|', short: 'max |ρ|', better: 'lower', log: false, headline: false, value: (r) => r.corr.maxAbs,
    read: 'The strongest correlation between two dimensions.',
    isotropic: () => '0', isoValue: () => 0,
  },
  {
    key: 'spectrum.top1', name: 'Variance on the top component', short: 'top-1 variance', better: 'lower', log: false, headline: true, value: (r) => r.spectrum.top1,
    read: 'Share of the total variance along the first principal direction.',
    isotropic: (d) => `1/d = ${pct(1 / d)}`, isoValue: (d) => 1 / d,
  },
  {
    key: 'spectrum.top10', name: 'Variance on the top 10 components', short: 'top-10 variance', better: 'lower', log: false, headline: false, value: (r) => r.spectrum.top10,
    read: 'Share of the total variance along the ten largest principal directions.',
    isotropic: (d) => (d <= 10 ? '100%' : `10/d = ${pct(10 / d)}`), isoValue: (d) => Math.min(1, 10 / d),
  },
  {
    key: 'spectrum.effectiveRank', name: 'Effective rank', short: 'effective rank', better: 'higher', log: false, headline: true, value: (r) => r.spectrum.effectiveRank,
    read: 'exp of the entropy of the eigenvalue shares: how many directions the variance effectively uses.',
    isotropic: (d) => `d = ${d}`, isoValue: (d) => d,
  },
  {
    key: 'spectrum.condition', name: 'Condition number', short: 'condition', better: 'lower', log: true, headline: true, value: (r) => r.spectrum.condition,
    read: 'Largest over smallest covariance eigenvalue; n/a when the covariance is rank-deficient (a direction without variance).',
    isotropic: () => '1', isoValue: () => 1,
  },
  {
    key: 'constantDims', name: 'Constant dimensions', short: 'constant dims', better: 'lower', log: false, headline: false, value: (r) => r.constantDims,
    read: 'Dimensions with zero variance; they are left out of the correlations.',
    isotropic: () => '0', isoValue: () => 0,
  },
];

/** The metrics of the "at a glance" and per-layer charts. */
export const HEADLINE_METRICS: readonly MetricDef[] = METRICS.filter((m) => m.headline);

/** A metric's value when it is a finite number, else null (null, NaN and ±Infinity all read "n/a"). */
export function metricValue(m: MetricDef, r: TransformResult): number | null {
  const v = m.value(r);
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/**
 * Why metric `m` has no value in `r`: the analysis' own reason (`nullReasons`), else what an
 * analysis without reasons (older files) most likely means; null when it has a value.
 */
export function nullReason(m: MetricDef, r: TransformResult): string | null {
  const v = m.value(r);
  if (typeof v === 'number' && Number.isFinite(v)) return null;
  const own = r.nullReasons?.[m.key];
  if (own) return own;
  if (typeof v === 'number') return Number.isNaN(v) ? 'not a number: the computation broke down for this view' : 'infinite for this view';
  switch (m.key) {
    case 'partitionIsotropy':
      return 'not computed: I(W) needs a second pass over the rows (the analysis ran with --one-pass, or was merged from statistics)';
    case 'avgCosine':
      return r.transform === 'none'
        ? 'fewer than 2 non-zero rows: no pair of rows'
        : 'not computed: the average cosine of transformed rows needs a second pass over the rows (--one-pass, or merged statistics)';
    case 'spectrum.condition':
      return 'the covariance is rank-deficient (its smallest eigenvalue is zero up to rounding): the condition number is infinite';
    default:
      return 'could not be computed for this view';
  }
}
