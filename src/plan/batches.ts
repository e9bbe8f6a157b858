import type { DeploySpec, Serial } from '../spec/model.js';

/**
 * Splits the hosts that change into rollout batches: the canary hosts alone first (when the spec asks for a
 * canary), then `serial` hosts at a time. Input order is kept; the planner passes hosts sorted by name.
 */
export function splitIntoBatches<T>(changing: readonly T[], deploy: Pick<DeploySpec, 'canary' | 'serial'>, hostCount: number): T[][] {
  const batches: T[][] = [];
  let rest = [...changing];
  const canary = Math.max(0, Math.floor(deploy.canary));
  if (canary > 0 && rest.length > 0) {
    batches.push(rest.slice(0, canary));
    rest = rest.slice(canary);
  }
  const size = batchSize(deploy.serial, hostCount);
  for (let start = 0; start < rest.length; start += size) batches.push(rest.slice(start, start + size));
  return batches;
}

/**
 * Hosts per batch. A percentage is of all the service's hosts (changed or not, as Nomad's max_parallel is of
 * the group), rounded up so 10% of 5 hosts is 1 rather than 0, and never below 1 so a rollout always moves.
 */
export function batchSize(serial: Serial, hostCount: number): number {
  const size = serial.kind === 'count' ? Math.floor(serial.count) : Math.ceil((serial.percent * hostCount) / 100);
  return Math.max(1, size);
}
