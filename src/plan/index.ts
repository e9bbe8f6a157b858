export { planRollout } from './plan-rollout.js';
export { desiredStateOf } from './desired-state.js';
export type { PlanOptions, ResumePoint } from './plan-rollout.js';
export { summarizePlan } from './summarize-plan.js';
export type { PlanSummary } from './summarize-plan.js';
export { batchSize, splitIntoBatches } from './batches.js';
export { orderServices } from './order-services.js';
export { comparePlacement, describePackageChange } from './compare-placement.js';
export type { PlanErrorCode } from './plan-codes.js';
export type {
  ChangeReason,
  ChangeWhat,
  DesiredFile,
  DesiredFileKind,
  DesiredPackage,
  DesiredPlacement,
  DesiredState,
  HostAction,
  HostStep,
  KnownRun,
  Orphan,
  PackageChange,
  Plan,
  PlanResult,
  ServicePlan,
  SkippedHost,
} from './model.js';
