import { InternalError } from '../errors/index.js';
import { isTendUnitName } from '../spec/service-names.js';
import type { UnitProperties } from './observed.js';
import { parseUnitStatus } from './observe-parser.js';
import { SHOW_PROPERTIES } from './observe-script.js';
import type { RemoteRunner, RunTarget } from './remote-command.js';

/**
 * The systemctl verbs a rollout needs, each one remote command through the one exec path. Unit names are
 * checked here as well as by the loader: they end up in argv, and argv is shown in messages.
 */

function checkUnits(units: readonly string[]): void {
  for (const unit of units) {
    if (!isTendUnitName(unit)) throw new InternalError(`refusing to pass ${JSON.stringify(unit)} to systemctl`);
  }
}

const SHOW_SCRIPT = `rc=0; systemctl show --all -p ${SHOW_PROPERTIES.join(',')} -- "$@" || rc=$?; echo "systemctl-show end rc=$rc"`;

/** The properties of the given units, keyed by unit name. */
export async function showUnits(pool: RemoteRunner, host: RunTarget, units: readonly string[]): Promise<Map<string, UnitProperties>> {
  checkUnits(units);
  const result = await pool.run(host, ['sh', '-c', SHOW_SCRIPT, 'sh', ...units], { sudo: true, timeoutMs: 30_000 });
  return parseUnitStatus(host.name, result.stdout, result.stderr);
}

export async function daemonReload(pool: RemoteRunner, host: RunTarget): Promise<void> {
  await pool.run(host, ['systemctl', 'daemon-reload'], { sudo: true });
}

export async function enableUnits(pool: RemoteRunner, host: RunTarget, units: readonly string[]): Promise<void> {
  if (units.length === 0) return;
  checkUnits(units);
  // --no-reload: enable's implicit daemon-reload cost ~90 ms of every host step. Only the boot-time symlink
  // is wanted here; a step that writes unit files reloads on its own first (needsDaemonReload).
  await pool.run(host, ['systemctl', 'enable', '--no-reload', '--', ...units], { sudo: true });
}

const RESTART_SCRIPT = `systemctl restart -- "$@" || true; ${SHOW_SCRIPT}`;

/**
 * Restarts units and returns their properties read right after, in the same command: the run this restart
 * started, so that health is judged against it and not against a baseline read earlier. A unit crash-looping
 * under Restart= moves NRestarts on its own, and a restart issued while it waits in `auto-restart` keeps
 * that count (systemd 252), so a count compared with an older look would blame the new run for the old
 * one's crashes. systemctl's exit code is not judged: it says nothing about a Type=exec service that
 * crashes a second later; the new run's identity, state and probes do.
 */
export async function restartUnits(pool: RemoteRunner, host: RunTarget, units: readonly string[]): Promise<Map<string, UnitProperties>> {
  checkUnits(units);
  const result = await pool.run(host, ['sh', '-c', RESTART_SCRIPT, 'sh', ...units], { sudo: true });
  return parseUnitStatus(host.name, result.stdout, result.stderr);
}

/** Stops and disables units; units that do not exist are not an error (a prune after a partial create). */
export async function stopAndDisableUnits(pool: RemoteRunner, host: RunTarget, units: readonly string[]): Promise<void> {
  if (units.length === 0) return;
  checkUnits(units);
  await pool.run(host, ['systemctl', 'disable', '--now', '--', ...units], { sudo: true, okExitCodes: [1, 5] });
}

/** Removes files tend owns (absolute paths, checked by the caller against the host layout). */
export async function removeFiles(pool: RemoteRunner, host: RunTarget, paths: readonly string[]): Promise<void> {
  if (paths.length === 0) return;
  for (const path of paths) {
    if (!path.startsWith('/') || path.includes('/../') || path.includes('\n')) throw new InternalError(`refusing to remove ${JSON.stringify(path)}`);
  }
  await pool.run(host, ['rm', '-f', '--', ...paths], { sudo: true });
}
