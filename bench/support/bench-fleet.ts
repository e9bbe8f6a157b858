import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { wipeTendState } from '../../test/e2e/daemon-support.js';
import { startHosts, type TestHost } from '../../test/e2e/harness/hosts.js';
import { CLIENT_KEY_PATH } from '../../test/e2e/harness/layout.js';
import { prepareMachine } from '../../test/e2e/harness/prepare-machine.js';
import { assertRoot } from '../../test/e2e/harness/prerequisites.js';
import { buildTend } from '../../test/support/tend-cli.js';
import { newFleetRepo, writeTiming, type FleetTiming } from './fleet-repo.js';
import { expectExit, timedRun, type TimedOptions, type TimedRun } from './timed-process.js';

/**
 * The common start of every benchmark that needs hosts: the e2e harness's real systemd + sshd hosts, wiped
 * of anything tend left there, and the fleet repo converged on them by one `tend apply`.
 */

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const TEND_BIN = join(ROOT, 'bin', 'tend.js');

export function log(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

/** The real `tend` binary under `/usr/bin/time -v`, with the harness's client key. */
export function tend(args: readonly string[], options: TimedOptions = {}): Promise<TimedRun> {
  return timedRun(process.execPath, [TEND_BIN, ...args], { ...options, env: { TEND_SSH_KEY: CLIENT_KEY_PATH, ...options.env } });
}

export interface BenchFleet {
  readonly hosts: readonly TestHost[];
  readonly repoDir: string;
}

export interface FleetSetup {
  readonly hosts: number;
  readonly services: number;
  readonly timing: FleetTiming;
  readonly concurrency?: number;
}

/** Hosts up (reused when running), tend built, every host wiped, the repo at version 1 applied. */
export async function startFleet(setup: FleetSetup): Promise<BenchFleet> {
  const fleet = { services: setup.services, version: '1', concurrency: setup.concurrency };
  assertRoot();
  await prepareMachine(log);
  await buildTend();
  const started = performance.now();
  const hosts = await startHosts(setup.hosts, { log });
  log(`${hosts.length} hosts up in ${((performance.now() - started) / 1000).toFixed(1)} s; wiping what tend left on them`);
  await Promise.all(hosts.map((host) => wipeTendState(host)));
  // Converged in one batch with no dwell, then given the benchmark's timing: deploy settings are not in
  // any file on the hosts, so changing them leaves the fleet converged.
  const repoDir = await newFleetRepo({ ...fleet, hosts, timing: { serial: hosts.length, interval: '200ms', minHealthyTime: '0s' } });
  log(`converging ${setup.services} services on ${hosts.length} hosts with tend apply (${repoDir})`);
  const applied = expectExit(await tend(['apply', '--yes', '--json', '--repo', repoDir]), [0], 'the first tend apply');
  log(`converged in ${(applied.wallMs / 1000).toFixed(1)} s`);
  await writeTiming(repoDir, setup.services, setup.timing);
  await expectConverged(repoDir, 'the benchmark timing was set');
  return { hosts, repoDir };
}

/** `tend plan` must find nothing to do: the proof that a run (tend's or the peer's) left the fleet converged. */
export async function expectConverged(repoDir: string, after: string): Promise<void> {
  expectExit(await tend(['plan', '--json', '--repo', repoDir]), [0], `tend plan after ${after}`);
}
