/**
 * Defaults of every optional field, in one place: the schema descriptions state the same values, and a test
 * holds the two together.
 */
export const SPEC_DEFAULTS = {
  description: '',
  serial: 1,
  canary: 1,
  maxFailedHosts: 0,
  probePath: '/',
  expectStatus: 200,
  interval: '1s',
  timeout: '2s',
  minHealthyTime: '5s',
  healthyDeadline: '1m',
  progressDeadline: '3m',
  autoRollback: true,
  mem: '512M',
  noFile: 65536,
  packageBinDir: '/usr/bin',
  /** Each host downloads a run.url itself: no double hop through tend, whose bandwidth would grow with the fleet. */
  fetch: 'host',
  allowHttp: false,
} as const;

export const INVENTORY_DEFAULTS = {
  port: 22,
  user: 'root',
} as const;

export const SETTINGS_DEFAULTS = {
  pruneEnabled: false,
  pruneMaxFraction: 0.5,
  concurrency: 16,
  parallelServices: 4,
  keepReleases: 3,
} as const;

/**
 * Limits on what the loader reads, so a hostile commit cannot exhaust memory. Each YAML file is limited by
 * what it is: a spec or tend.yml is a few kilobytes, an inventory grows with the fleet. The depth and alias
 * guards of the YAML parse apply to every file alike (yaml-document.ts).
 */
export interface LoadLimits {
  /** Largest spec.yml or tend.yml read; 256 KiB is orders of magnitude above any real one. */
  readonly maxSpecBytes: number;
  /**
   * Largest inventory.yml read: 10,000 hosts at 800 bytes each (an RSA-4096 host key is 720), with room for
   * comments. A pinned ed25519 host costs about 170 bytes, so 2,000 of them already outgrow a spec's limit.
   */
  readonly maxInventoryBytes: number;
  /** Largest artifact hashed; artifacts live in git, which handles large files badly anyway. */
  readonly maxArtifactBytes: number;
}

export const DEFAULT_LOAD_LIMITS: LoadLimits = {
  maxSpecBytes: 256 * 1024,
  maxInventoryBytes: 8 * 1024 * 1024,
  maxArtifactBytes: 512 * 1024 * 1024,
};
