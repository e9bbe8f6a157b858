/**
 * The validated, defaulted model of one commit of a deploy repo. `loadRepo` produces it; render, plan,
 * rollout and the daemon consume it and never see raw YAML. Durations are milliseconds, sizes are bytes.
 */

/** Where a value came from, for messages that point at the spec a person wrote. */
export interface SourceRef {
  /** Path relative to the deploy repo root, with `/` separators. */
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export interface RepoSpec {
  readonly inventory: Inventory;
  /** Sorted by name. */
  readonly services: readonly ServiceSpec[];
  readonly settings: RepoSettings;
}

export interface Inventory {
  /** Sorted by name. */
  readonly hosts: readonly HostSpec[];
  /** Group name -> host names (sorted), as declared in inventory.yml. */
  readonly groups: ReadonlyMap<string, readonly string[]>;
  /**
   * Group name -> the same hosts as a set, built once per load: "does this group hold this host?" is asked
   * for every host and service, and searching a 2,000-host list for each made load and render grow as
   * hosts² × services.
   */
  readonly members: ReadonlyMap<string, ReadonlySet<string>>;
}

export interface HostSpec {
  readonly name: string;
  readonly address: string;
  /** Default 22. */
  readonly port: number;
  /** Default `root`; any other user runs tend's commands through `sudo -n`. */
  readonly user: string;
  /** Pinned public host key, `ssh-ed25519 AAAA...` (type and base64 blob, comment dropped). */
  readonly hostKey: string;
  /** The host's `vars:` from inventory.yml, for `{{ host.vars.<name> }}` in a spec's environments. */
  readonly vars: ReadonlyMap<string, string>;
  readonly source: SourceRef;
}

/** One release of one service: exactly one of an in-repo artifact, a file from an artifact store, or a Debian package. */
export type RunSpec = ArtifactRun | UrlRun | PackageRun;

export interface ArtifactRun {
  readonly kind: 'artifact';
  /** Path of the artifact file inside the repo, relative to the repo root (`services/web/server.sh`). */
  readonly path: string;
  /** File name the artifact gets on the host (the base name of `path`). */
  readonly fileName: string;
  /** Lowercase hex sha256 of the file's bytes, computed from the commit (and checked against the spec). */
  readonly sha256: string;
  /** argv of ExecStart: the artifact's path on the host (`currentArtifactPath`), then the arguments of `run.command`. */
  readonly argv: readonly string[];
}

/** Who downloads a url: each host itself, or tend once per rollout, staging it over SSH. */
export type FetchMode = 'host' | 'tend';

/** Tarball formats a url may name (by its file name); the release is the unpacked tree. */
export type ArchiveFormat = 'tar' | 'tar.gz' | 'tar.xz' | 'tar.bz2' | 'tar.zst';

/** run.credentials: the secret (from the secrets directory) that becomes the download's Authorization header. */
export interface StoreCredentialsRef {
  /** `bearer`: the secret is a token; `basic`: the secret is `user:password`. */
  readonly scheme: 'bearer' | 'basic';
  readonly secret: string;
  /** Where the spec names it, for E_SECRET_MISSING. */
  readonly where: SourceRef;
}

export interface UrlRun {
  readonly kind: 'url';
  /** As written; https, or http to loopback or with allow_http. Never carries credentials. */
  readonly url: string;
  /** Lowercase hex sha256 the download must have, checked on the host before anything running is touched. */
  readonly sha256: string;
  /** The last segment of the URL's path: the name the download gets in the release directory. */
  readonly downloadName: string;
  /** The tarball format, or undefined for a single file that is the program itself. */
  readonly archive: ArchiveFormat | undefined;
  /** The program, relative to the release directory: the download itself, or run.file inside the tarball. */
  readonly fileName: string;
  readonly fetch: FetchMode;
  /** A private store's credentials: which secret, and how it is sent; undefined for a public store. */
  readonly credentials: StoreCredentialsRef | undefined;
  /** argv of ExecStart: the program's path on the host (`currentArtifactPath`), then the arguments of `run.command`. */
  readonly argv: readonly string[];
}

export interface PackageRun {
  readonly kind: 'package';
  /** A Debian package name (validated by Debian's rules). */
  readonly package: string;
  /** Exact version ([epoch:]upstream[-revision]), or undefined for "whatever is installed". */
  readonly version: string | undefined;
  /** argv of ExecStart; default `/usr/bin/<service name>`. */
  readonly argv: readonly string[];
}

export type ProbeSpec =
  | { readonly type: 'http'; readonly port: number; readonly path: string; readonly expectStatus: number; readonly expectBody: string | undefined }
  | { readonly type: 'tcp'; readonly port: number }
  | { readonly type: 'exec'; readonly argv: readonly string[] };

export interface ProbeTiming {
  /** Time between two probe attempts. */
  readonly interval: number;
  /** Time one probe attempt may take. */
  readonly timeout: number;
  /** The new run must pass continuously for this long to count as healthy. */
  readonly minHealthyTime: number;
  /** A host that is not healthy by then has failed. */
  readonly healthyDeadline: number;
  /** The rollout fails if no host became healthy for this long. */
  readonly progressDeadline: number;
}

/** How many hosts of a service change at once. */
export type Serial =
  | { readonly kind: 'count'; readonly count: number }
  | { readonly kind: 'percent'; readonly percent: number };

export interface DeploySpec {
  readonly serial: Serial;
  /** Hosts in the first batch; 1 by default (a canary), 0 to start straight with `serial`. */
  readonly canary: number;
  /** Failed hosts tolerated before the rollout stops; 0 by default (the first failure stops it). */
  readonly maxFailedHosts: number;
  readonly probe: ProbeSpec | undefined;
  readonly timing: ProbeTiming;
  /** Cron expression (5 fields) for when a rollout may start, or undefined for any time. */
  readonly window: string | undefined;
  readonly autoRollback: boolean;
}

export interface Limits {
  /** MemoryMax= in bytes. */
  readonly memBytes: number;
  /** LimitNOFILE=. */
  readonly noFile: number;
  /** CPUQuota= in percent of one CPU, or undefined for no quota. */
  readonly cpuPercent: number | undefined;
}

/**
 * One piece of an env value: literal text, a `{{ name }}` secret resolved only at apply time, or a value of
 * the host the file is rendered for (`{{ host.name }}`, `{{ host.vars.zone }}`).
 */
export type EnvPart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'secret'; readonly name: string }
  | { readonly kind: 'host-name' }
  | { readonly kind: 'host-var'; readonly name: string };

export interface EnvVar {
  readonly key: string;
  readonly parts: readonly EnvPart[];
  readonly source: SourceRef;
}

export interface TimerSpec {
  /** Unique within the service; the unit is `<service>-<name>.timer`. */
  readonly name: string;
  /** Cron expression (5 fields), as written. */
  readonly schedule: string;
  /** The same schedule in systemd's OnCalendar= syntax. */
  readonly onCalendar: string;
  readonly argv: readonly string[];
  readonly description: string;
}

/** The systemd Type= values a spec may choose; `exec` is the default (a missing program fails the start). */
export type ServiceType = 'exec' | 'simple' | 'notify' | 'forking';

/** Directories systemd creates for the unit, each a relative name under its root (/var/lib, /var/cache, ...). */
export interface UnitDirectories {
  /** StateDirectory=, under /var/lib; the service's own name unless the spec lists others. */
  readonly state: readonly string[];
  /** CacheDirectory=, under /var/cache. */
  readonly cache: readonly string[];
  /** LogsDirectory=, under /var/log. */
  readonly logs: readonly string[];
  /** RuntimeDirectory=, under /run (removed when the service stops). */
  readonly runtime: readonly string[];
  /** ConfigurationDirectory=, under /etc (read-only to the service). */
  readonly configuration: readonly string[];
}

/** How the unit runs, beyond what to run: the spec's `unit:` block, validated and defaulted. Lists sorted, each entry once. */
export interface UnitOptions {
  /** A fixed account that must exist on the host, or undefined for systemd's DynamicUser named after the service. */
  readonly user: string | undefined;
  /** The group for a fixed user, or undefined for the user's primary group. */
  readonly group: string | undefined;
  readonly directories: UnitDirectories;
  /** Absolute paths the service may write besides its directories (ReadWritePaths=). */
  readonly readWritePaths: readonly string[];
  /** Ambient capabilities (CAP_*), also the bounding set; CAP_NET_BIND_SERVICE is added for a port below 1024. */
  readonly capabilities: readonly string[];
  /** WorkingDirectory=, absolute, or undefined for systemd's default (/ or the user's home). */
  readonly workingDirectory: string | undefined;
  readonly type: ServiceType;
  /** KillSignal=, as a signal name (SIGTERM), or undefined for systemd's default (SIGTERM). */
  readonly killSignal: string | undefined;
  /** TimeoutStopSec= in milliseconds, or undefined for systemd's default (90 s). */
  readonly timeoutStop: number | undefined;
  /** Allowlisted extra [Service] settings, name -> the value as rendered, sorted by name. */
  readonly directives: readonly (readonly [name: string, value: string])[];
}

export interface ServiceSpec {
  readonly name: string;
  readonly group: string;
  readonly description: string;
  readonly run: RunSpec;
  readonly deploy: DeploySpec;
  /** Services that must be healthy before this one rolls out. */
  readonly after: readonly string[];
  readonly limits: Limits;
  /** TCP ports the service listens on (the probe's port included); two services may not share one on a host. */
  readonly ports: readonly number[];
  /** Where Prometheus scrapes the service on each host, or undefined: no monitoring targets. */
  readonly metricsPort: number | undefined;
  /** Informational, as written in the spec (the article's `resources`); not rendered. */
  readonly resources: unknown;
  readonly environment: readonly EnvVar[];
  /** True when an env value refers to the host (`{{ host.* }}`): the env file then differs per host. */
  readonly hostDependent: boolean;
  readonly unit: UnitOptions;
  readonly timers: readonly TimerSpec[];
  /** The spec file, relative to the repo root. */
  readonly source: SourceRef;
}

export interface PruneSettings {
  /** Remove units of services deleted from the repo. Off by default. */
  readonly enabled: boolean;
  /** Refuse a plan that prunes more than this fraction of the managed services. */
  readonly maxFraction: number;
}

/** An apt repository of tend.yml, as the hosts get it: a deb822 source and, unless trusted, its keyring. */
export interface AptRepository {
  /** Names the files on the hosts: tend-<name>.sources and tend-<name>.gpg. */
  readonly name: string;
  readonly uri: string;
  readonly suite: string;
  /** Empty for a flat repository (a suite ending in /). */
  readonly components: readonly string[];
  /** The signing key, dearmored: the binary OpenPGP public key apt reads from Signed-By=. Undefined only when trusted. */
  readonly keyring: Uint8Array | undefined;
  /** The key's path in the repo, for messages. */
  readonly keyPath: string | undefined;
  /** apt's Trusted: yes, only when tend.yml says `trusted: true`. */
  readonly trusted: boolean;
  readonly source: SourceRef;
}

export interface RepoSettings {
  readonly prune: PruneSettings;
  /** Hosts worked on at once. */
  readonly concurrency: number;
  /** Services rolled out at once (those with no `after:` path between them). */
  readonly parallelServices: number;
  /** Releases kept on each host for a rollback without upload. */
  readonly keepReleases: number;
  /** In tend.yml's order; empty when it declares none. */
  readonly aptRepositories: readonly AptRepository[];
}
