import type { RawUnit } from './unit-options.js';

/**
 * The shapes of the three YAML files once they passed their JSON Schema: field names as written
 * (snake_case), everything optional that the schema leaves optional. Only code that runs after a
 * successful schema validation may read a file through these types.
 */

export type RawCommand = string | readonly string[];
export type RawDuration = string | number;

export interface RawProbe {
  readonly type: 'http' | 'tcp' | 'exec';
  readonly port?: number;
  readonly path?: string;
  readonly expect_status?: number;
  readonly expect_body?: string;
  readonly command?: RawCommand;
  readonly interval?: RawDuration;
  readonly timeout?: RawDuration;
}

export interface RawDeploy {
  readonly serial?: number | string;
  readonly probe?: RawProbe;
  readonly canary?: number;
  readonly max_failed_hosts?: number;
  readonly min_healthy_time?: RawDuration;
  readonly healthy_deadline?: RawDuration;
  readonly progress_deadline?: RawDuration;
  readonly window?: string;
  readonly auto_rollback?: boolean;
}

export interface RawLimits {
  readonly mem?: string | number;
  readonly no_file?: number;
  readonly cpu?: string;
}

export interface RawRun {
  readonly artifact?: string;
  readonly url?: string;
  readonly sha256?: string;
  readonly file?: string;
  readonly allow_http?: boolean;
  readonly fetch?: 'host' | 'tend';
  readonly credentials?: { readonly bearer?: string; readonly basic?: string };
  readonly package?: string;
  readonly version?: string;
  readonly command?: RawCommand;
  readonly ports?: readonly number[];
}

export interface RawTimer {
  readonly name: string;
  readonly schedule: string;
  readonly command: RawCommand;
  readonly description?: string;
}

export interface RawService {
  readonly name: string;
  readonly group: string;
  readonly description?: string;
  readonly deploy?: RawDeploy;
  readonly limits?: RawLimits;
  readonly resources?: unknown;
  readonly environments?: string;
  readonly allow_env?: readonly string[];
  readonly run?: RawRun;
  readonly metrics_port?: number;
  readonly after?: readonly string[];
  readonly timers?: readonly RawTimer[];
  readonly unit?: RawUnit;
}

export interface RawSpecFile {
  readonly service: RawService;
}

export interface RawHost {
  readonly address: string;
  readonly port?: number;
  readonly user?: string;
  readonly host_key: string;
  readonly vars?: Readonly<Record<string, string>>;
}

export interface RawInventoryFile {
  readonly hosts: Readonly<Record<string, RawHost>>;
  readonly groups?: Readonly<Record<string, readonly string[]>>;
}

export interface RawSettingsFile {
  readonly prune?: { readonly enabled?: boolean; readonly max_fraction?: number };
  readonly concurrency?: number;
  readonly keep_releases?: number;
  readonly parallel_services?: number;
  readonly apt_repositories?: readonly RawAptRepository[];
}

export interface RawAptRepository {
  readonly name: string;
  readonly uri: string;
  readonly suite: string;
  readonly components?: readonly string[];
  readonly signing_key?: string;
  readonly trusted?: boolean;
}
