export { addGramUpper, symmetrizeUpper } from './gram.js';
export { matmul, congruence } from './gemm.js';
export { addLogSumExp } from './log-sum-exp.js';
export { eigh, withEighSolver, type EighSolver } from './eigh-solver.js';
export type { Eigh, EighOptions } from './eigh.js';
export { eighLowRank, type LowRankEigh } from './low-rank-eigh.js';
export { loadNative, nativeUnavailableReason, type NativeBlas } from './native.js';
export { BACKEND_NAMES, BackendError, type BackendName, type KernelBackend, type Projector } from './backends/types.js';
export { availableBackends, loadBackend, parseBackend, unavailableError, unavailableReason, type BackendRequest } from './backends/select.js';
