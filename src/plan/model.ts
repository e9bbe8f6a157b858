import type { ServiceSpec } from '../spec/model.js';

/**
 * The planner's input and output. Pure data: the planner knows file hashes, never file contents, so a
 * plan can be printed, stored and compared without ever holding a secret.
 */

export interface DesiredFile {
  /** Absolute path on the host. */
  readonly path: string;
  /** sha256 of the exact bytes that would be written (secrets resolved). */
  readonly sha256: string;
  readonly mode: number;
  readonly kind: 'unit' | 'env' | 'timer' | 'timer-service';
}

/** Everything one service should be on one host. */
export interface DesiredPlacement {
  readonly service: string;
  readonly host: string;
  readonly files: readonly DesiredFile[];
  /** sha256 of the artifact that must be `current`, or undefined for a package run. */
  readonly release: string | undefined;
}

export interface DesiredState {
  /** In the repo's order (sorted by name); the planner orders them by `after:`. */
  readonly services: readonly ServiceSpec[];
  readonly placements: readonly DesiredPlacement[];
}

export type HostAction =
  /** The service does not exist on the host yet. */
  | 'create'
  /** Files or the release differ: write, then restart. */
  | 'update'
  /** Files match, but the unit is not running as it should (failed, inactive, needs a reload). */
  | 'restart'
  | 'unchanged'
  /** The service left the repo: stop, disable, remove its files. */
  | 'prune';

export interface ChangeReason {
  /** What differs, e.g. `unit`, `env`, `release`, `timer`, `missing`, `inactive`, `daemon-reload`, `removed`. */
  readonly what: string;
  /** For people: `/etc/systemd/system/api.service differs`, `release 3f2a… -> 9b1c…`. Never holds a secret. */
  readonly detail: string;
}

export interface HostStep {
  readonly host: string;
  readonly service: string;
  readonly action: HostAction;
  readonly reasons: readonly ChangeReason[];
  /** Files to write (only those that differ), absent for unchanged and prune. */
  readonly writes: readonly DesiredFile[];
  /** Files to delete (stale timers, a pruned service). */
  readonly deletes: readonly string[];
  /** The release to switch `current` to, when it changes. */
  readonly release: string | undefined;
  /** Whether the release is already on the host (a rollback needs no upload). */
  readonly releasePresent: boolean;
  readonly needsDaemonReload: boolean;
}

export interface ServicePlan {
  readonly service: string;
  /** Services this one waits for (its `after:` list): they must be healthy before its first batch starts. */
  readonly waitsFor: readonly string[];
  /** Steps that change something, in batches: the first is the canary when the spec asks for one. */
  readonly batches: readonly (readonly HostStep[])[];
  /** Hosts where nothing changes, for the record. */
  readonly unchanged: readonly string[];
  /** Hosts that could not be observed: nothing is planned for them, and they count against the budget. */
  readonly unreachable: readonly { readonly host: string; readonly code: string; readonly message: string }[];
}

export interface Plan {
  /** In rollout order: every service after the services it waits for. */
  readonly services: readonly ServicePlan[];
  /** Services to prune, per host (only when prune is on). */
  readonly prunes: readonly HostStep[];
  /** True when nothing at all would change. */
  readonly empty: boolean;
}
