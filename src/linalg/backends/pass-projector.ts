import { addLogSumExp } from '../log-sum-exp.js';
import { addUnitRows } from '../unit-rows.js';
import { OutBuffer } from './out-buffer.js';
import type { PassProjector, Projector } from './types.js';

/**
 * A {@link PassProjector} over a backend's plain {@link Projector}: each block is projected into
 * float64 once and the log-sum-exp and unit rows read it there (linalg's TypeScript/wasm kernels).
 * Plain projectors take float64 rows: float32 ones are widened into a reused buffer first.
 */
export function wrapProjector(projector: Projector, cols: number): PassProjector {
  let proj: Float64Array | null = null;
  let rows = 0;
  const wide = new OutBuffer();
  const block = () => {
    if (!proj) throw new Error('PassProjector: project() a block first');
    return proj;
  };
  return {
    project(x, n) {
      proj = projector.apply(wide.float64(x), n);
      rows = n;
    },
    logSumExp(maxPos, maxNeg, sumPos, sumNeg) {
      addLogSumExp(block(), rows, cols, 0, cols, maxPos, maxNeg, sumPos, sumNeg);
    },
    unitRows(offset, e, unit, skip) {
      return addUnitRows(block(), rows, cols, offset, e, unit, skip);
    },
    dispose() {
      proj = null;
      projector.dispose();
    },
  };
}
