import type { ByteSource } from './byte-source.js';
import { BFLOAT16_LE, parseDtype, type Dtype } from './dtype.js';
import { npyFail } from './errors.js';
import { rawArraySource } from './npy-reader.js';
import type { FormatContext } from './open-format.js';
import { pickKey } from './pick-key.js';
import { sourceView } from './source-view.js';
import { readSafetensorsHeader } from './safetensors-header.js';
import type { EmbeddingSource, OpenOptions } from './types.js';

/** safetensors dtypes that are numbers we read, as numpy descrs (all little-endian by the format). */
const DESCRS: Readonly<Record<string, string>> = {
  F64: '<f8', F32: '<f4', F16: '<f2',
  I64: '<i8', I32: '<i4', I16: '<i2', I8: '|i1',
  U64: '<u8', U32: '<u4', U16: '<u2', U8: '|u1',
};

/**
 * Opens one tensor of a safetensors file as embeddings. The header is validated in full first
 * (the checks `src/extract` uses for model weights); `key` names the tensor, by default the only
 * 2-D/3-D one. F32/F64/F16/BF16 are read exactly, integers are converted to float64 with a note,
 * BOOL and F8 are refused. Rows are read at random (the .npy block reader over the tensor's range).
 *
 * @throws NpyError for a corrupt header, a missing or ambiguous key, or an unsupported dtype.
 */
export async function openSafetensors(bytes: ByteSource, opts: OpenOptions, _ctx: FormatContext): Promise<EmbeddingSource> {
  const path = bytes.name;
  try {
    const { tensors } = await readSafetensorsHeader({
      path,
      size: bytes.size,
      read: (position, length) => bytes.read(position, length),
      fail: (message) => npyFail(undefined, message),
      fix: 're-save it (safetensors.numpy.save_file) or re-download it',
    });
    const chosen = pickKey(path, tensors.map((t) => ({ ...t, key: t.name, dtype: t.dtype })), opts.key, 'tensor');
    let dtype: Dtype;
    let descr: string;
    if (chosen.dtype === 'BF16') {
      dtype = BFLOAT16_LE;
      descr = 'bf16';
    } else if (DESCRS[chosen.dtype] !== undefined) {
      descr = DESCRS[chosen.dtype];
      dtype = parseDtype(descr, path);
    } else {
      throw npyFail(path, `tensor ${chosen.name} has dtype ${chosen.dtype}, which is not a vector of numbers isotropy reads (F32, F64, F16, BF16, integers): save it as float32`);
    }
    const src = await rawArraySource(
      bytes,
      { descr, dtype, shape: chosen.shape, fortranOrder: false, dataOffset: chosen.begin, dataEnd: chosen.end },
      { layer: opts.layer, layers: opts.layers },
    );
    return sourceView(src, { path, format: 'safetensors' });
  } catch (err) {
    await bytes.close().catch(() => undefined);
    throw err;
  }
}
