/** Float64 arrays <-> base64 of their little-endian bytes, the same on every machine. */
export function f64ToBase64(a: Float64Array): string {
  const buf = Buffer.alloc(a.length * 8);
  for (let i = 0; i < a.length; i++) buf.writeDoubleLE(a[i], i * 8);
  return buf.toString('base64');
}

/** Inverse of {@link f64ToBase64}; `expected` guards against a truncated or foreign field. */
export function base64ToF64(s: string, expected: number, what: string): Float64Array {
  const buf = Buffer.from(s, 'base64');
  if (buf.length !== expected * 8) {
    throw new RangeError(`${what}: expected ${expected} float64 values, found ${buf.length / 8}`);
  }
  const out = new Float64Array(expected);
  for (let i = 0; i < expected; i++) out[i] = buf.readDoubleLE(i * 8);
  return out;
}
