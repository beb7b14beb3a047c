/**
 * A Float64Array as base64 of its little-endian bytes, the same on every machine (read back, with
 * every check, by `f64Field`).
 */
export function f64ToBase64(a: Float64Array): string {
  const buf = Buffer.alloc(a.length * 8);
  for (let i = 0; i < a.length; i++) buf.writeDoubleLE(a[i], i * 8);
  return buf.toString('base64');
}
