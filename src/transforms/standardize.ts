import type { Moments } from '../stats/index.js';
import type { AffineMap } from './affine-map.js';

/** Divides each dimension by its (biased) std; constant dimensions keep factor 1. No centering. */
export function standardizeMap(m: Moments): AffineMap {
  const d = m.dims;
  const scale = Float64Array.from({ length: d }, (_, i) => {
    const s = Math.sqrt(m.cov[i * d + i]);
    return m.constant[i] || s === 0 ? 1 : 1 / s;
  });
  return { kind: 'diagonal', scale };
}
