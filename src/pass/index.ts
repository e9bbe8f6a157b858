export { preparePass } from './prepare-pass.js';
export type { PreparedPass } from './prepare-pass.js';
export { sshFleet } from './fleet.js';
export type { Fleet, FleetEffects } from './fleet.js';
export { describeUnknownNames, NOT_IN_LIMIT, resolveLimit, skippedByLimit, splitLimit, withinLimit } from './limit.js';
export type { Limit, LimitResult, SkippedService, UnknownName } from './limit.js';
export { formatPlan, planJson, unobservedHostsError } from './plan-report.js';
