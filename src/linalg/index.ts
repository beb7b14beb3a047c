export { addGramUpper, symmetrizeUpper } from './gram.js';
export { matmul, congruence } from './gemm.js';
export { eigh, type Eigh, type EighOptions } from './eigh.js';
export { loadNative, nativeUnavailableReason, type NativeBlas } from './native.js';
