/** The conversion a PyTorch user needs, in one line. */
export const TORCH_TO_NPY = "np.save('emb.npy', t.detach().cpu().float().numpy())";

/**
 * Recognises a PyTorch checkpoint saved by `torch.save` (a zip archive since PyTorch 1.6, its
 * first entry `<name>/data.pkl`, or `<name>/version` / `<name>/.format_version` in newer ones)
 * from the first local file header of a zip; returns the message to show, or null.
 *
 * @param bytes  the start of the file (the first 30 + name-length bytes suffice)
 */
export function torchZipHint(bytes: Uint8Array): string | null {
  if (bytes.length < 30 || bytes[0] !== 0x50 || bytes[1] !== 0x4b || bytes[2] !== 0x03 || bytes[3] !== 0x04) return null;
  const nameLength = bytes[26] | (bytes[27] << 8);
  const name = new TextDecoder('latin1').decode(bytes.subarray(30, Math.min(bytes.length, 30 + nameLength)));
  if (!/(^|\/)(data\.pkl|version|\.format_version|byteorder|\.data\/version)$/.test(name)) return null;
  return `is a PyTorch file (torch.save), which needs unpickling; isotropy never unpickles: convert it in Python with t = torch.load(path); ${TORCH_TO_NPY}`;
}
