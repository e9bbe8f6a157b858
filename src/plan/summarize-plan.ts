import type { HostAction, Plan } from './model.js';

export interface PlanSummary {
  /** Service x host counts per action; `prune` counts planned prunes only. */
  readonly actions: Readonly<Record<HostAction, number>>;
  readonly unreachable: number;
  readonly blocked: number;
  readonly orphans: number;
  readonly services: number;
  /** Services with at least one step. */
  readonly servicesChanging: number;
}

/** Counts for a plan's headline ("2 to create, 1 to update, ...") and for metrics. */
export function summarizePlan(plan: Plan): PlanSummary {
  const actions: Record<HostAction, number> = { create: 0, update: 0, restart: 0, unchanged: 0, prune: 0 };
  let unreachable = 0;
  let blocked = 0;
  let servicesChanging = 0;
  for (const service of plan.services) {
    const steps = service.batches.flat();
    for (const step of steps) actions[step.action] += 1;
    actions.unchanged += service.unchanged.length;
    unreachable += service.unreachable.length;
    blocked += service.blocked.length;
    if (steps.length > 0) servicesChanging += 1;
  }
  actions.prune += plan.prunes.length;
  return {
    actions,
    unreachable,
    blocked,
    orphans: plan.orphans.length,
    services: plan.services.length,
    servicesChanging,
  };
}
