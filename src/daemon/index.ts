/**
 * `tend run`: the reconciler and what runs it (config, the pass loop, the API and triggers, the roles of
 * one instance or an `ha` group). The CLI starts it through this face.
 */
export { crashPointFromEnv } from './crash-points.js';
export type { CrashPoint } from './crash-points.js';
export { DEFAULT_CONFIG_PATH, daemonConfigFrom, loadDaemonConfig } from './daemon-config.js';
export type { DaemonConfig, DaemonConfigInput } from './daemon-config.js';
export { runDaemon } from './run-daemon.js';
