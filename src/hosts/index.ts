/**
 * The one SSH layer: connections (pooled, pinned host keys, bounded), the one remote-exec path, atomic file
 * writes and releases, observation, and probes. Everything else in tend talks to hosts through this.
 */
export { SshPool } from './ssh-pool.js';
export type { RefusalMemory, SshHost, SshLogger, SshPoolOptions } from './ssh-pool.js';
export { openFleet } from './open-fleet.js';
export type { FleetOptions } from './open-fleet.js';
export type { RemoteRunner, RunOptions, RunResult, RunTarget } from './remote-command.js';
export { journalMarkArgv, quoteArgv, quoteWord, remoteCommandText } from './shell-quote.js';
export { keyFingerprint, keysFromKnownHosts, parsePinnedKey } from './host-key.js';
export type { PinnedKey } from './host-key.js';
export { classifyConnectError } from './ssh-errors.js';
export { pruneReleases, stageRelease, switchRelease, writeFileAtomic } from './file-transfer.js';
export { fetchReleaseOnHost, parseStageResult, stageDownloadedRelease } from './artifact-stage.js';
export type { HostStageResult, UrlRelease } from './artifact-stage.js';
export type { RemoteFiles, StageOutcome, WriteOptions } from './file-transfer.js';
export { observeHost, observeHosts } from './observe.js';
export type { ObserveOptions } from './observe.js';
export { parseObservation } from './observe-parser.js';
export { OBSERVE_SCRIPT, observeArgv } from './observe-script.js';
export { journalTail, probeExec, probeHttp, probeTcp, runProbe } from './probes.js';
export type { ExecProbe, HttpProbe, ProbeResult, TcpProbe } from './probes.js';
export type { InstalledPackage, ObservedHost, ObservedService, ServicePackage, UnitProperties } from './observed.js';
export { parseUnitStatus } from './observe-parser.js';
export { daemonReload, enableUnits, removeFiles, restartUnits, showUnits, stopAndDisableUnits } from './systemd-control.js';
export { readHostFile } from './read-file.js';
export type { HostFile } from './read-file.js';
export { STOP_ON_EOF_SCRIPT, unitLogsArgv } from './unit-logs.js';
export type { UnitLogsOptions } from './unit-logs.js';
export { aptUpdate, installPackage, pruneKeptPackages, writeAptRepositories } from './apt-packages.js';
export type { PackageInstall } from './apt-packages.js';
export { aptFailureError, classifyAptFailure } from './apt-errors.js';
export type { AptFailure, AptFailureCode } from './apt-errors.js';
