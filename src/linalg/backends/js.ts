import { addDotTiles, transpose } from '../dot-tiles.js';
import { addGramUpper } from '../gram.js';
import { OutBuffer } from './out-buffer.js';
import type { KernelBackend, Projector } from './types.js';

/**
 * The plain TypeScript backend: register-blocked float64 kernels (4 x 4 tiles, about 3 GFLOP/s per
 * core), exact to float64 rounding, always available. Parallel only through the worker pool.
 */
export function jsBackend(): KernelBackend {
  return {
    name: 'js',
    detail: 'TypeScript 4x4 register-blocked kernels, float64',
    precision: 'float64',
    chunkRows: Infinity,
    threaded: false,
    gramUpper: addGramUpper,
    projector: (dir, dims, cols, bias) => jsProjector(dir, dims, cols, bias),
    dispose() {},
  };
}

function jsProjector(dir: Float64Array, dims: number, cols: number, bias: Float64Array | null): Projector {
  // D^T once: every output entry becomes a dot product of two contiguous rows.
  const dt = transpose(dir, dims, cols);
  const buffer = new OutBuffer();
  return {
    apply(x, rows) {
      const out = buffer.get(rows * cols);
      if (bias) for (let r = 0; r < rows; r++) out.set(bias, r * cols);
      else out.fill(0);
      addDotTiles(x, rows, dt, cols, dims, out);
      return out;
    },
    dispose() {},
  };
}
