import { asTendError } from '../errors/index.js';
import { shortCommit } from '../source/commit-id.js';
import { worstFirst, type DaemonStatus } from '../status/index.js';
import { EXIT_USAGE, type Command } from './command.js';
import { callDaemon, serverOptions } from './daemon-client.js';
import { formatError, errorJson } from './error-report.js';

const EXIT_CONVERGED = 0;
const EXIT_NEEDS_ATTENTION = 1;
const EXIT_NO_DAEMON = 3;
const EXIT_NOT_SETTLED = 4;


export const statusCommand: Command = {
  name: 'status',
  usage: 'tend status [--json] [--server URL] [SERVICE]',
  description:
    'Reads /status from `tend run` and prints the source, the last applied commit, any repo-wide stall\n' +
    '(an invalid commit with its file:line:col, a rewritten history) and one line per service, worst first,\n' +
    'with its reason code, since when, and a hint. The exit code lets scripts and cron check convergence.\n' +
    'With SERVICE, also a line per host: the commit and version it runs, its state, unit, last probe and\n' +
    'since when.\n\n' +
    'States: Synced, Progressing, Waiting (for its deploy window), Degraded, RolledBack, Stalled (needs a\n' +
    'person), Drifted (a host changed by hand) and Paused.',
  options: serverOptions,
  exitCodes: [
    [EXIT_CONVERGED, 'nothing is Degraded or Stalled'],
    [EXIT_NEEDS_ATTENTION, 'something is Degraded or Stalled (or the whole repo is stalled), or SERVICE is not in the deploy repo'],
    [EXIT_USAGE, 'usage error'],
    [EXIT_NO_DAEMON, 'no daemon answered'],
    [EXIT_NOT_SETTLED, 'the daemon is starting: what it shows is its journal, not yet confirmed by a pass'],
  ],
  usageExitCode: EXIT_USAGE,
  maxPositionals: 1,
  async run(context) {
    const { terminal, values, positionals } = context;
    const json = values['json'] === true;
    let status: DaemonStatus;
    try {
      status = (await callDaemon(context, 'GET', '/status', false)).body as DaemonStatus;
    } catch (error) {
      const tendError = asTendError(error);
      if (json) terminal.out(`${JSON.stringify({ ok: false, error: errorJson(tendError) }, null, 2)}\n`);
      else terminal.err(formatError(tendError, false));
      return EXIT_NO_DAEMON;
    }
    const wanted = positionals[0];
    const services = worstFirst(status.services.filter((service) => wanted === undefined || service.service === wanted));
    if (wanted !== undefined && services.length === 0 && status.settled) {
      const known = status.services.map((service) => service.service).join(', ');
      if (json) terminal.out(`${JSON.stringify({ ok: false, error: { code: 'E_UNKNOWN_SERVICE', message: `no service ${wanted} in the deploy repo`, known: status.services.map((service) => service.service) } }, null, 2)}\n`);
      else terminal.err(`tend status: no service ${wanted} in the deploy repo (it has: ${known === '' ? 'none' : known})\n`);
      return EXIT_NEEDS_ATTENTION;
    }
    // With SERVICE, its hosts too: the whole fleet's rows are for the page and --json without SERVICE.
    const hosts = wanted === undefined ? status.hosts : status.hosts.filter((host) => host.service === wanted);
    const attention = status.stalled !== undefined || services.some((service) => service.state === 'Stalled' || service.state === 'Degraded');
    // Worst wins: a remembered stall is reported as one even before a pass confirms it.
    const code = attention ? EXIT_NEEDS_ATTENTION : status.settled ? EXIT_CONVERGED : EXIT_NOT_SETTLED;
    if (json) {
      terminal.out(`${JSON.stringify({ ...status, services, hosts }, null, 2)}\n`);
      return code;
    }
    terminal.out(formatStatus({ ...status, services, hosts }, Date.now(), wanted !== undefined));
    return code;
  },
};

function ago(at: number | undefined, now: number): string {
  if (at === undefined) return 'never';
  const seconds = Math.max(0, Math.round((now - at) / 1000));
  if (seconds < 120) return `${seconds}s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m ago`;
  return `${Math.round(seconds / 3600)}h ago`;
}

function hostLines(hosts: DaemonStatus['hosts'], now: number): string[] {
  if (hosts.length === 0) return ['', '  no host observed yet'];
  const lines = ['', `  ${'HOST'.padEnd(16)} ${'STATE'.padEnd(12)} ${'COMMIT'.padEnd(12)} ${'VERSION'.padEnd(14)} ${'UNIT'.padEnd(18)} ${'LAST PROBE'.padEnd(24)} SINCE`];
  for (const host of hosts) {
    const probe = host.lastProbe === undefined ? '-' : `${host.lastProbe.ok ? 'ok' : 'failed'}${host.lastProbe.status === undefined ? '' : ` ${host.lastProbe.status}`} ${ago(host.lastProbe.at, now)}`;
    lines.push(`  ${host.host.padEnd(16)} ${host.state.padEnd(12)} ${short(host.commit).padEnd(12)} ${(host.version ?? '-').padEnd(14)} ${(host.unit ?? '-').padEnd(18)} ${probe.padEnd(24)} ${ago(host.since, now)}`);
  }
  return lines;
}

function short(sha: string | undefined): string {
  return sha === undefined ? '-' : shortCommit(sha);
}

/** With `ha`: who leads, and the answering instance's role, lease age and why it does not act. */
function leadershipLines(leadership: DaemonStatus['leadership'], now: number): string[] {
  if (leadership === undefined) return [];
  const leader = leadership.leader === undefined ? 'none' : `${leadership.leader.identity} at ${leadership.leader.url} since ${ago(leadership.leaderSince, now)}`;
  const lines = [`leader   ${leader} (this is ${leadership.self}, ${leadership.role}; lease renewed ${ago(leadership.leaseRenewedAt, now)})`];
  if (leadership.notActing !== undefined) lines.push(`         not acting: ${leadership.notActing.detail}`);
  if (leadership.role !== 'leader' && leadership.publishedAt !== undefined) lines.push(`         shown as the leader published it ${ago(leadership.publishedAt, now)}`);
  return lines;
}

export function formatStatus(status: DaemonStatus, now: number, withHosts = false): string {
  const lines: string[] = [];
  const source = status.source;
  lines.push(`source   ${source.description} ${source.branch} @ ${short(source.head)} (fetched ${ago(source.lastFetchOkAt, now)})`);
  if (source.error !== undefined) lines.push(`         fetch failing: ${source.error.message} (${source.error.code})`);
  lines.push(`applied  ${short(status.lastApplied)}`);
  lines.push(...leadershipLines(status.leadership, now));
  if (!status.settled) lines.push('starting: shown from the journal until the first pass has looked at git and the hosts');
  if (status.inFlight !== undefined) lines.push(`rollout  ${status.inFlight.rolloutId} of ${short(status.inFlight.commit)}: ${status.inFlight.phase}, started ${ago(status.inFlight.startedAt, now)}`);
  if (status.stalled !== undefined) {
    const stall = status.stalled;
    lines.push('', `STALLED  ${stall.code} at ${short(stall.commit)} since ${ago(stall.since, now)}: ${stall.message}`);
    for (const issue of stall.issues) lines.push(`  ${issue.file}:${issue.line}:${issue.col}: ${issue.message} (${issue.code})`);
    if (stall.hint !== undefined) lines.push(`  hint: ${stall.hint}`);
  }
  lines.push('');
  if (status.services.length === 0) lines.push('no service reported yet');
  for (const service of status.services) {
    const code = service.code === undefined ? '' : ` ${service.code}`;
    lines.push(`${service.service.padEnd(16)} ${service.state.padEnd(12)}${code} since ${ago(service.since, now)}: ${service.message}`);
    lines.push(`${''.padEnd(16)} desired ${short(service.desiredCommit)}, last healthy ${short(service.stableCommit)}${service.nextAttemptAt === undefined ? '' : `, next attempt in ${Math.max(0, Math.round((service.nextAttemptAt - now) / 1000))}s`}`);
    if (service.hint !== undefined) lines.push(`${''.padEnd(16)} hint: ${service.hint}`);
    if (withHosts) lines.push(...hostLines(status.hosts.filter((host) => host.service === service.service), now));
  }
  return `${lines.join('\n')}\n`;
}
