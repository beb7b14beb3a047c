/**
 * The parts of the extractor that load tfjs (`isotropy-toolkit/encoder`), kept out of the main
 * entry point so that importing the statistics API does not pull in a tensor runtime.
 */
export { initBackend, type BackendName } from './backend.js';
export { Encoder, type EncodeRequest, type EncodeResult, type Pooling } from './encoder.js';
