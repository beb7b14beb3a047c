import { encode } from 'fast-png';
import { scheme } from 'vega';

/** `levels` colours of a Vega scheme at t = 0, 1/(levels-1), ..., 1, as [r, g, b]. */
export function schemePalette(name: string, levels: number): number[][] {
  const interp = scheme(name) as ((t: number) => string) | undefined;
  if (typeof interp !== 'function') throw new RangeError(`unknown continuous Vega scheme "${name}"`);
  return Array.from({ length: levels }, (_, k) => {
    const m = /rgb\((\d+),\s*(\d+),\s*(\d+)\)/.exec(interp(k / (levels - 1)));
    if (!m) throw new RangeError(`scheme "${name}" gave an unexpected colour`);
    return [Number(m[1]), Number(m[2]), Number(m[3])];
  });
}

/**
 * Shrinks a `dims x dims` byte raster to at most `maxSide` pixels a side by taking the maximum of
 * each f x f block (f = ceil(dims / maxSide); the last blocks may be smaller): a strong
 * correlation stays visible however small its block. Returned as it is when it already fits.
 */
export function maxPoolRaster(bytes: Uint8Array, dims: number, maxSide: number): { bytes: Uint8Array; side: number; factor: number } {
  if (dims <= maxSide) return { bytes, side: dims, factor: 1 };
  const f = Math.ceil(dims / maxSide);
  const side = Math.ceil(dims / f);
  const out = new Uint8Array(side * side);
  for (let i = 0; i < dims; i++) {
    const o = Math.floor(i / f) * side;
    const row = i * dims;
    for (let j = 0; j < dims; j++) {
      const k = o + Math.floor(j / f);
      if (bytes[row + j] > out[k]) out[k] = bytes[row + j];
    }
  }
  return { bytes: out, side, factor: f };
}

/**
 * A `dims x dims` raster of bytes (0..255 standing for 0..1) as an indexed-colour PNG `data:` URL
 * coloured with the Vega scheme `schemeName`, quantized to `levels` shades (2..256): a byte b
 * becomes shade round(b / 255 * (levels - 1)), drawn in the scheme's colour at that value, so the
 * pixels match the chart's colour legend. Fewer shades compress better: at d = 1024 a noisy
 * correlation matrix takes about 960 kB with 256 shades and 640 kB with 32.
 */
export function rasterPngUrl(bytes: Uint8Array, dims: number, schemeName: string, levels = 256): string {
  if (bytes.length !== dims * dims) throw new RangeError(`raster: expected ${dims * dims} bytes, got ${bytes.length}`);
  if (!Number.isInteger(levels) || levels < 2 || levels > 256) throw new RangeError(`raster: levels must be 2..256, got ${levels}`);
  const shade = new Uint8Array(256);
  for (let b = 0; b < 256; b++) shade[b] = Math.round((b / 255) * (levels - 1));
  let data = bytes;
  if (levels !== 256) {
    // a plain loop: Uint8Array.from with a map function is ten times slower at d = 768
    data = new Uint8Array(bytes.length);
    for (let k = 0; k < bytes.length; k++) data[k] = shade[bytes[k]];
  }
  const png = encode(
    { width: dims, height: dims, data, channels: 1, depth: 8, palette: schemePalette(schemeName, levels) },
    { zlib: { level: 6 } },
  );
  return `data:image/png;base64,${Buffer.from(png.buffer, png.byteOffset, png.byteLength).toString('base64')}`;
}
