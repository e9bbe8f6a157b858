import { InternalError } from '../errors/index.js';
import { serviceNameProblem, timerNameProblem } from '../spec/service-names.js';
import type { ServiceSpec, TimerSpec } from '../spec/model.js';

/**
 * The loader refuses every name that breaks the rule of spec/service-names.ts; render checks the same rule
 * again because a unit with a bad name fails on every host. Reaching either throw means tend let a name
 * through validation that it cannot render: a bug, not a problem of the deploy repo.
 */
export function checkServiceName(service: ServiceSpec): void {
  const problem = serviceNameProblem(service.name);
  if (problem !== undefined) throw new InternalError(`service name ${JSON.stringify(service.name)} passed validation but ${problem.reason}`);
}

export function checkTimerName(service: ServiceSpec, timer: TimerSpec): void {
  const problem = timerNameProblem(service.name, timer.name);
  if (problem !== undefined) throw new InternalError(`timer name ${JSON.stringify(timer.name)} of ${service.name} passed validation but ${problem.reason}`);
}
