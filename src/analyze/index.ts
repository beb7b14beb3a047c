export { analyze, analyzeAccumulator, applySecondPass, inputLabels, passViews, sampledDiagnostics, type AnalyzeOptions, type AnalyzeProgress } from './analyze.js';
export { secondPass, projectionPlan, projectionSums, secondPassResults, mergeViewSums, type PassView, type SecondPassResult, type ViewSums } from './second-pass.js';
export { ANALYSIS_SCHEMA, type Analysis, type InputInfo, type InputFile, type TransformResult, type ViewDiagnostics, type Histogram, type UnitRaster, type SampleInfo } from './schema.js';
export { firstPass, type FirstPass, type RowRange } from './first-pass.js';
export { checkAnalysis, AnalysisFormatError } from './validate.js';
export { DEFAULT_SAMPLE_ROWS, MAX_SAMPLE_ROWS } from './sample.js';
export { transformFile, type TransformFileOptions } from './transform-file.js';
export {
  collectStats, computeShard, shardToJSON, shardFromJSON, mergeShards, analyzeShards,
  type Shard, type ShardJSON, type ShardOptions, type MergeOptions, type MergedShards,
} from './shards.js';
export { parseShardPart, shardRange, orderShards, shardId, type ShardPart, type OrderedSource } from './shard-id.js';
export { composeRunning, restoreRunning, type RunningState, type RunningJSON } from './shard-running.js';
export { planShards, planToJSON, planFromJSON, PLAN_SCHEMA, type ShardPlan, type PlanJSON, type PlanOptions } from './shard-plan.js';
export { computePartial, partialToJSON, partialFromJSON, isPartialJSON, PARTIAL_SCHEMA, type ShardPartial, type PartialJSON, type PartialOptions } from './shard-partial.js';
export { analyzePlan } from './shard-reduce.js';
export { isEmbeddingSource, isMatrixLike, matrixLikeSource, type AnalyzeInput, type TypedMatrix, type MatrixLike, type RowBatch } from './inputs.js';
export { statsMatrices, toMatrix, type StatsMatrices, type StatsMatricesOptions } from './matrices.js';
export { inputStem } from './input-names.js';
export { layerRows } from './layered-passes.js';
export { ResourceError, DEFAULT_MEMORY_SHARE, checkAnalysisJsonSize, checkMemory, defaultMemoryBudget, estimateMemory, formatBytes, machineMemory, memoryBudget, parseMemorySize, type MemoryEstimate, type WorkShape } from './budget.js';
