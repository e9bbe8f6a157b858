import { observeHosts, type ObservedHost, type RemoteFiles } from '../hosts/index.js';
import { applyPlan, type ApplyInput, type ApplyResult, type RolloutEffects } from '../rollout/index.js';
import type { HostSpec } from '../spec/model.js';

/** What a rollout needs besides the hosts: the clock, the artifacts, and who listens. */
export type FleetEffects = Omit<RolloutEffects, 'pool'>;

/**
 * The hosts as a pass sees them: observe them, and carry a plan out on them. The daemon's decisions are
 * tested against a fake of this (no SSH, no root); `sshFleet` is the real one.
 */
export interface Fleet {
  observe(hosts: readonly HostSpec[], units: (host: string) => readonly string[]): Promise<ReadonlyMap<string, ObservedHost>>;
  apply(input: ApplyInput, effects: FleetEffects): Promise<ApplyResult>;
}

export function sshFleet(pool: RemoteFiles): Fleet {
  return {
    observe: (hosts, units) => observeHosts(pool, hosts, units),
    apply: (input, effects) => applyPlan(input, { ...effects, pool }),
  };
}
