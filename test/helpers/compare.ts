import type { Analysis, TransformResult } from '../../src/index.js';

/**
 * The first difference beyond `tol` (relative to the largest magnitude of the same array or to the
 * value itself) between the metrics of two results, or null. Values near zero (rounding noise of
 * an exact zero) are compared on the scale of their array, or below `atol` both.
 */
export function resultMismatch(a: TransformResult, b: TransformResult, tol = 1e-12, atol = 1e-9): string | null {
  const walk = (x: unknown, y: unknown, path: string, scale: number): string | null => {
    if (typeof x === 'number' && typeof y === 'number') {
      // the condition number l_max / l_min carries l_min's rounding (about eps * l_max) relatively
      // amplified by itself: eps * condition, whatever the summation order's tolerance
      const t = path.endsWith('.spectrum.condition') ? Math.max(tol, 16 * Number.EPSILON * Math.abs(y)) : tol;
      // values that should be zero (a whitened std's spread) are rounding noise: an absolute tolerance
      const ok = Math.abs(x - y) <= t * Math.max(Math.abs(y), scale, 1e-300) || (Math.abs(x) < atol && Math.abs(y) < atol);
      return ok ? null : `${path}: ${x} vs ${y}`;
    }
    if (x === null || y === null || typeof x !== 'object' || typeof y !== 'object') return x === y ? null : `${path}: ${String(x)} vs ${String(y)}`;
    if (Array.isArray(x) && Array.isArray(y)) {
      if (x.length !== y.length) return `${path}: length ${x.length} vs ${y.length}`;
      const s = y.reduce((m: number, v) => (typeof v === 'number' ? Math.max(m, Math.abs(v)) : m), 0);
      for (let i = 0; i < x.length; i++) {
        const d = walk(x[i], y[i], `${path}[${i}]`, s);
        if (d) return d;
      }
      return null;
    }
    for (const k of Object.keys(y as object)) {
      if (k === 'input' || k === 'layer') continue;
      const d = walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], `${path}.${k}`, 0);
      if (d) return d;
    }
    return null;
  };
  return walk(a, b, a.transform, 0);
}

/** The first difference between every result of two analyses (same order), or null. */
export function analysisMismatch(a: Analysis, b: Analysis, tol = 1e-12): string | null {
  if (a.results.length !== b.results.length) return `${a.results.length} vs ${b.results.length} results`;
  for (let k = 0; k < a.results.length; k++) {
    const d = resultMismatch(a.results[k], b.results[k], tol);
    if (d) return `result ${k}: ${d}`;
  }
  return null;
}
