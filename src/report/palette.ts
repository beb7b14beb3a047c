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

/** "#rrggbb" to [h (0..360), s, l (0..1)]. */
function hexToHsl(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((c) => c / 255);
  const max = Math.max(r, g, b), min = Math.min(r, g, b);
  const l = (max + min) / 2;
  if (max === min) return [0, 0, l];
  const d = max - min;
  const s = l > 0.5 ? d / (2 - max - min) : d / (max + min);
  const h = max === r ? (g - b) / d + (g < b ? 6 : 0) : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
  return [h * 60, s, l];
}

function hslToHex(h: number, s: number, l: number): string {
  const f = (k: number) => {
    const t = (k + h / 30) % 12;
    const a = s * Math.min(l, 1 - l);
    return Math.round(255 * (l - a * Math.max(-1, Math.min(t - 3, 9 - t, 1))));
  };
  return `#${[f(0), f(8), f(4)].map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * The colour of view `kind` in group `group` of `groups` (an input, or a layer of one): the
 * view's hue, from darker (first group) to lighter (last), so that every (input, layer, view)
 * has its own colour and the views stay recognisable by hue. One group: the view's colour.
 */
export function seriesColor(kind: ViewKind, group: number, groups: number): string {
  const base = VIEW_STYLE[kind].color;
  if (groups <= 1) return base;
  const [h, s, l] = hexToHsl(base);
  // lightness from 0.26 to 0.72, enough steps apart to tell 3 groups apart in print
  const t = group / (groups - 1);
  return hslToHex(h, s, 0.26 + 0.46 * t + (l - 0.49) * 0.2);
}

/** Stroke dashes per input: solid, dashed, dotted, dash-dot, then again. */
export const INPUT_DASHES: readonly number[][] = [[], [6, 3], [1.5, 2.5], [8, 3, 1.5, 3]];

/** The stroke dash of the lines of input number `k` (in report order). */
export function seriesDash(k: number): number[] {
  return [...INPUT_DASHES[k % INPUT_DASHES.length]];
}
