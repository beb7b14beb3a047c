import type { TransformName } from '../transforms/index.js';

/** A view of an input: as it is ("none") or after one transform. */
export type ViewKind = 'none' | TransformName;

/**
 * Name and colour of each view, the same in every chart and table of a report: "before" is a
 * neutral dark grey, each transform has its own hue (Tableau 10, readable in print and for the
 * common colour-vision deficiencies when paired with the legend's names).
 */
export const VIEW_STYLE: Readonly<Record<ViewKind, { name: string; color: string }>> = {
  none: { name: 'before', color: '#4d4d4d' },
  isobn: { name: 'IsoBN', color: '#e45756' },
  'isobn-running': { name: 'IsoBN (running)', color: '#f58518' },
  standardize: { name: 'standardize', color: '#54a24b' },
  whiten: { name: 'whiten', color: '#4c78a8' },
  abtt: { name: 'ABTT', color: '#b279a2' },
};

/** The order views appear in legends, tables and small multiples. */
export const VIEW_ORDER: readonly ViewKind[] = ['none', 'isobn', 'isobn-running', 'standardize', 'whiten', 'abtt'];

/** The colour scheme of the correlation heatmap (a Vega scheme name): light = 0, dark = 1. */
export const CORR_SCHEME = 'blues';

/** True for transforms that rescale each dimension and so leave every correlation unchanged. */
export function isRescaling(kind: ViewKind): boolean {
  return kind === 'isobn' || kind === 'isobn-running' || kind === 'standardize';
}
