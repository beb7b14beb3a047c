export { analyze, analyzeAccumulator, inputLabels, type AnalyzeOptions, type AnalyzeProgress } from './analyze.js';
export { secondPass, type PassView, type SecondPassResult } from './second-pass.js';
export { ANALYSIS_SCHEMA, type Analysis, type InputInfo, type TransformResult, type ViewDiagnostics, type Histogram, type UnitRaster, type SampleInfo } from './schema.js';
export { firstPass, type FirstPass } from './first-pass.js';
export { checkAnalysis, AnalysisFormatError } from './validate.js';
export { DEFAULT_SAMPLE_ROWS, MAX_SAMPLE_ROWS } from './sample.js';
export { transformFile, type TransformFileOptions } from './transform-file.js';
export { collectStats, analyzeShards } from './shards.js';
export { ResourceError, DEFAULT_MEMORY_SHARE, checkAnalysisJsonSize, checkMemory, defaultMemoryBudget, estimateMemory, formatBytes, machineMemory, memoryBudget, parseMemorySize, type MemoryEstimate, type WorkShape } from './budget.js';
