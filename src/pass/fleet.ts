import type { UrlDelivery } from '../artifacts/index.js';
import { observeHosts, type ObservedHost, type RefusalMemory, type RemoteFiles, type ServicePackage, type SshPool } from '../hosts/index.js';
import { applyPlan, type ApplyInput, type ApplyResult, type RolloutEffects } from '../rollout/index.js';
import type { HostSpec } from '../spec/model.js';

/** What a rollout needs besides the hosts: the clock, the artifacts, and who listens. */
export type FleetEffects = Omit<RolloutEffects, 'pool'>;

/**
 * The hosts as a pass sees them: observe them, and carry a plan out on them. The daemon's decisions are
 * tested against a fake of this (no SSH, no root); `sshFleet` is the real one.
 */
export interface Fleet {
  /** `packages`: the package runs placed on each host, whose packages' state observation reports. */
  observe(hosts: readonly HostSpec[], units: (host: string) => readonly string[], packages?: (host: string) => readonly ServicePackage[]): Promise<ReadonlyMap<string, ObservedHost>>;
  apply(input: ApplyInput, effects: FleetEffects): Promise<ApplyResult>;
  /**
   * Hosts that refused tend (a changed host key, refused auth) are not connected to again until this is
   * called: on a new commit and on `tend retry`, the moments a person may have fixed them.
   */
  forgetRefusals(host?: string): void;
  /** How many hosts are worked on at once: the loaded commit's tend.yml `concurrency`. */
  setConcurrency(hosts: number): void;
}

/** `urlDelivery` serves run.url services (tend's downloads, a private store's credentials) in every rollout. */
export function sshFleet(pool: RemoteFiles & RefusalMemory & Pick<SshPool, 'setConcurrency'>, urlDelivery?: UrlDelivery): Fleet {
  return {
    observe: (hosts, units, packages) => observeHosts(pool, hosts, units, {}, packages),
    apply: (input, effects) => applyPlan(input, { ...(urlDelivery === undefined ? {} : { urlDelivery }), ...effects, pool }),
    forgetRefusals: (host) => pool.forgetRefusals(host),
    setConcurrency: (hosts) => pool.setConcurrency(hosts),
  };
}
