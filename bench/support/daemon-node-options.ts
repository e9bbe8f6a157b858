import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/**
 * The V8 settings the daemon runs with, from the one place that sets them (systemd/tend.service), so a
 * benchmark of a pass measures it as the daemon runs it: the young generation's size decides whether a
 * large pass's objects are copied by the collector, and V8 reads it only at start-up.
 */

const UNIT = new URL('../../systemd/tend.service', import.meta.url);
const PREFIX = 'Environment=NODE_OPTIONS=';

/** tend.service's NODE_OPTIONS, e.g. `--max-semi-space-size=64`; '' when it sets none. */
export async function daemonNodeOptions(): Promise<string> {
  const unit = await readFile(UNIT, 'utf8');
  return unit.split('\n').find((line) => line.startsWith(PREFIX))?.slice(PREFIX.length).trim() ?? '';
}

/**
 * Runs this script again under the daemon's NODE_OPTIONS, unless it already runs under them, and exits
 * with the run's status.
 */
export async function rerunWithDaemonNodeOptions(): Promise<void> {
  const options = await daemonNodeOptions();
  const current = process.env['NODE_OPTIONS'] ?? '';
  if (options === '' || current.includes(options)) return;
  const run = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, NODE_OPTIONS: `${current} ${options}`.trim() },
  });
  process.exit(run.status ?? 1);
}
