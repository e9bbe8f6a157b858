import type { ErrorClass } from '../errors/index.js';

/**
 * What one observation of a host returns: the contract between `observeHost` (SSH, untrusted output parsed
 * strictly) and the pure planner. Only units that carry tend's ownership marker appear here.
 */

/** `systemctl show` properties the planner and the health judgement need. */
export interface UnitProperties {
  readonly activeState: string;
  readonly subState: string;
  /** Empty when the unit has never run. Changes on every start: how a *new* run is told apart. */
  readonly invocationId: string;
  readonly nRestarts: number;
  readonly needDaemonReload: boolean;
  /** 0 when not running. */
  readonly mainPid: number;
  readonly unitFileState: string;
}

export interface ObservedService {
  readonly service: string;
  /** Absolute path on the host -> lowercase hex sha256 of its bytes, for every file tend owns for the service. */
  readonly files: ReadonlyMap<string, string>;
  /** sha256 of the release `current` points at, or undefined when there is none. */
  readonly currentRelease: string | undefined;
  /** Releases kept on the host (sha256 names), newest first by modification time. */
  readonly releases: readonly string[];
  readonly unit: UnitProperties;
  /**
   * The service's other owned units (its timers and their oneshot services), by unit name. Optional so that
   * observations built by hand (tests, fakes) need not carry them; observeHost always fills it.
   */
  readonly timerUnits?: ReadonlyMap<string, UnitProperties>;
  /**
   * The service's Debian package as `dpkg-query` reports it, for a package run. Absent when the observation
   * did not ask (an observe script without package support, a fake): the planner then plans no package change.
   */
  readonly installedPackage?: InstalledPackage;
}

export interface InstalledPackage {
  readonly name: string;
  /** The installed version, or undefined when the package is not installed (or only half-installed). */
  readonly version: string | undefined;
  /** Whether dpkg's selection is `hold` (`apt-mark hold`). observeHost always fills it. */
  readonly held?: boolean;
  /**
   * The version tend recorded as installing and holding (/var/lib/tend/debs/<package>/held-version), or
   * undefined when tend never installed the package there. observeHost always fills it.
   */
  readonly tendVersion?: string | undefined;
}

/** A package run on a host: observation reports the package's state on the service. */
export interface ServicePackage {
  readonly service: string;
  readonly package: string;
}

export type ObservedHost =
  | {
      readonly host: string;
      readonly reachable: true;
      /** Keyed by service name. */
      readonly services: ReadonlyMap<string, ObservedService>;
      /** Unit files tend would write whose existing content lacks the ownership marker: never touched. */
      readonly foreignUnits: readonly string[];
      /** The Debian packages observation was asked about, by name; also on each package run's service. */
      readonly packages?: ReadonlyMap<string, InstalledPackage>;
    }
  | {
      readonly host: string;
      readonly reachable: false;
      /** The TendError code that made it unobservable, e.g. E_HOST_UNREACHABLE or E_HOSTKEY. */
      readonly code: string;
      /** transient (retry) or conflict (a changed host key, refused auth: a person must act). */
      readonly errorClass: ErrorClass;
      readonly message: string;
    };
