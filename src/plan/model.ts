import type { ErrorClass, TendError } from '../errors/index.js';
import type { ServiceSpec } from '../spec/model.js';

/**
 * The planner's input and output. Pure data: the planner knows file hashes, never file contents, so a
 * plan can be printed, stored and compared without ever holding a secret.
 */

export type DesiredFileKind = 'unit' | 'env' | 'timer' | 'timer-service';

export interface DesiredFile {
  /** Absolute path on the host. */
  readonly path: string;
  /** sha256 of the exact bytes that would be written (secrets resolved). */
  readonly sha256: string;
  readonly mode: number;
  readonly kind: DesiredFileKind;
}

/** Everything one service should be on one host. */
export interface DesiredPlacement {
  readonly service: string;
  readonly host: string;
  readonly files: readonly DesiredFile[];
  /** sha256 of the artifact that must be `current`, or undefined for a package run. */
  readonly release: string | undefined;
  /** For a package run: the package and the exact version it must have (undefined: any installed version). */
  readonly package?: DesiredPackage;
}

export interface DesiredPackage {
  readonly name: string;
  readonly version: string | undefined;
}

/** A package to install at a version: what the plan shows as `nginx 1.4.2-1 → 1.4.3-1`. */
export interface PackageChange {
  readonly name: string;
  /** The installed version, or undefined when the package is not installed. */
  readonly from: string | undefined;
  /** The version to install, or undefined for the repository's candidate (the spec pins none). */
  readonly to: string | undefined;
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
  /** The service left the repo (or this host): stop, disable, remove its files. */
  | 'prune';

/** What differs; a file's `what` is its kind, so a person sees at once whether config or code changed. */
export type ChangeWhat =
  | DesiredFileKind
  /** The service is not on the host at all. */
  | 'missing'
  /** A file tend wrote for the service that the spec no longer produces (a removed timer). */
  | 'stale-file'
  | 'release'
  /** The service's Debian package is not installed, or at another version than the spec pins. */
  | 'package'
  /** The unit is not active/running. */
  | 'inactive'
  /** systemd reports NeedDaemonReload=yes: the unit on disk is not the one loaded. */
  | 'daemon-reload'
  /** The service left the repo, or this host left its group. */
  | 'removed'
  /** Files match, but an interrupted rollout never saw the host healthy at this commit: restart and probe. */
  | 'unverified';

export interface ChangeReason {
  readonly what: ChangeWhat;
  /** For people: `/etc/systemd/system/api.service differs`, `release 3f2a… -> 9b1c…`. Never holds a secret. */
  readonly detail: string;
}

export interface HostStep {
  readonly host: string;
  readonly service: string;
  readonly action: HostAction;
  readonly reasons: readonly ChangeReason[];
  /** Files to write (only those that differ); empty for restart, unchanged and prune. */
  readonly writes: readonly DesiredFile[];
  /** Files to delete (stale timers, a pruned service). */
  readonly deletes: readonly string[];
  /** The release to switch `current` to, when it changes. */
  readonly release: string | undefined;
  /** Whether the release is already on the host (a rollback needs no upload). */
  readonly releasePresent: boolean;
  /** The package to install, when a package run's installed version differs from the spec's. */
  readonly package?: PackageChange;
  readonly needsDaemonReload: boolean;
  /**
   * Set when an interrupted rollout already restarted the unit at this commit: judge that run from its
   * recorded start instead of restarting it.
   */
  readonly judgeRun?: KnownRun;
}

/** A run of a unit tend started and identified: its InvocationID, restart count then, and restart time. */
export interface KnownRun {
  readonly invocationId: string;
  readonly nRestarts: number;
  readonly restartedAt: number;
}

/** A host the plan leaves alone, and why: it could not be observed, or a file tend would write is not tend's. */
export interface SkippedHost {
  readonly host: string;
  readonly code: string;
  /** Unreachable is transient; a refused host key or auth, or a foreign unit, is a conflict for a person. */
  readonly errorClass: ErrorClass;
  readonly message: string;
}

export interface ServicePlan {
  readonly service: string;
  /** Services this one waits for (its `after:` list): they must be healthy before its first batch starts. */
  readonly waitsFor: readonly string[];
  /** Hosts the service is placed on, changed or not: what `serial` percentages are taken of. */
  readonly hostCount: number;
  /** Steps that change something, in batches: the first is the canary when the spec asks for one. */
  readonly batches: readonly (readonly HostStep[])[];
  /** Hosts where nothing changes, for the record. */
  readonly unchanged: readonly string[];
  /** Hosts that could not be observed: nothing is planned for them, and they count against the budget. */
  readonly unreachable: readonly SkippedHost[];
  /**
   * Hosts where a file tend would write exists without the ownership marker (E_FOREIGN_UNIT): never
   * overwritten, nothing planned, they count against the budget as conflicts (a person must decide).
   */
  readonly blocked: readonly SkippedHost[];
}

/** A managed service found on a host that the repo no longer places there. */
export interface Orphan {
  readonly service: string;
  readonly host: string;
}

export interface Plan {
  /** In rollout order: every service after the services it waits for. */
  readonly services: readonly ServicePlan[];
  /** Services to prune, per host (only when prune is on). */
  readonly prunes: readonly HostStep[];
  /** Managed services no longer in the repo, when prune is off: shown, never acted on. */
  readonly orphans: readonly Orphan[];
  /** True when nothing at all would change (orphans, unreachable and blocked hosts change nothing). */
  readonly empty: boolean;
}

/**
 * A refused plan still carries the plan it refused, so `tend plan` can show what would have happened and
 * why it will not.
 */
export type PlanResult =
  | { readonly ok: true; readonly plan: Plan }
  | { readonly ok: false; readonly error: TendError; readonly plan: Plan };
