/**
 * Planning a ref the daemon does not follow (a branch, a pull request's head, a sha): fetched beside the
 * followed branch, validated, and planned against the hosts of the services it changes, with nothing
 * touched. `POST /api/v1/plan` and pull-request webhooks go through here.
 */
export { planRef } from './ref-plan.js';
export type { RefPlan, RefPlanInput } from './ref-plan.js';
export { PlanQueue } from './plan-queue.js';
export { servicesToPlan } from './services-to-plan.js';
