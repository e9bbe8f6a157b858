import { InternalError } from '../errors/index.js';
import type { ServiceSpec } from '../spec/model.js';
import { compareText } from './compare-text.js';

/**
 * Services in rollout order: each after every service in its `after:` list, ties broken by name so the
 * same commit always rolls out in the same order (Kahn's algorithm with a sorted ready set).
 *
 * An `after:` entry naming a service that is not in the set (a service stalled on an invalid spec) orders
 * nothing here; the rollout still sees it in `waitsFor` and decides what waiting for it means.
 */
export function orderServices(services: readonly ServiceSpec[]): ServiceSpec[] {
  const byName = new Map<string, ServiceSpec>();
  for (const service of services) {
    if (byName.has(service.name)) throw new InternalError(`service ${service.name} appears twice in the desired state`);
    byName.set(service.name, service);
  }

  const waitingOn = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const service of services) {
    const known = [...new Set(service.after)].filter((name) => byName.has(name));
    waitingOn.set(service.name, known.length);
    for (const name of known) {
      const list = dependents.get(name);
      if (list === undefined) dependents.set(name, [service.name]);
      else list.push(service.name);
    }
  }

  const ready = services.filter((service) => waitingOn.get(service.name) === 0).map((service) => service.name);
  const ordered: ServiceSpec[] = [];
  while (ready.length > 0) {
    ready.sort(compareText);
    const name = ready.shift() as string;
    ordered.push(byName.get(name) as ServiceSpec);
    for (const dependent of dependents.get(name) ?? []) {
      const left = (waitingOn.get(dependent) ?? 0) - 1;
      waitingOn.set(dependent, left);
      if (left === 0) ready.push(dependent);
    }
  }

  if (ordered.length !== services.length) {
    // The loader rejects cycles (E_AFTER_CYCLE) before a plan is made, so reaching this is tend's bug.
    const stuck = services.filter((service) => !ordered.includes(service)).map((service) => service.name).sort(compareText);
    throw new InternalError(`after: cycle among services ${stuck.join(', ')} reached the planner`);
  }
  return ordered;
}
