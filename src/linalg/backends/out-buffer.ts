import type { RowData } from './types.js';

/**
 * A growable float64 output buffer: `get(n)` returns a view of n values (contents unspecified)
 * into memory that is reused from call to call, so a pass does not fault in fresh pages for every
 * block's result.
 */
export class OutBuffer {
  private buf = new Float64Array(0);

  get(n: number): Float64Array {
    if (this.buf.length < n) this.buf = new Float64Array(n);
    return this.buf.subarray(0, n);
  }

  /** `x` as float64: `x` itself, or float32 rows widened (exactly) into this buffer. */
  float64(x: RowData): Float64Array {
    if (x instanceof Float64Array) return x;
    const out = this.get(x.length);
    out.set(x);
    return out;
  }
}
