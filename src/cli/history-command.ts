import { asTendError } from '../errors/index.js';
import { shortCommit } from '../source/commit-id.js';
import type { RolloutRecord } from '../state/index.js';
import { EXIT_USAGE, type Command } from './command.js';
import { callDaemon, serverOptions } from './daemon-client.js';
import { errorJson, formatError } from './error-report.js';

const EXIT_LISTED = 0;
const EXIT_NO_DAEMON = 3;

export const historyCommand: Command = {
  name: 'history',
  usage: 'tend history [--json] [--server URL] [SERVICE]',
  description:
    'Reads /history from `tend run` and prints the rollouts it remembers (the last 200, one per service and\n' +
    'commit), oldest first: when each started and how long it took, the service, the result, the commit with\n' +
    'its subject and author, the hosts that failed, and the revert commit tend pushed for a failed change.\n' +
    "A rollout of tend's own revert says which commit it reverts.",
  options: serverOptions,
  exitCodes: [
    [EXIT_LISTED, 'listed (an empty list too)'],
    [EXIT_USAGE, 'usage error'],
    [EXIT_NO_DAEMON, 'no daemon answered'],
  ],
  usageExitCode: EXIT_USAGE,
  maxPositionals: 1,
  async run(context) {
    const { terminal, values, positionals } = context;
    const json = values['json'] === true;
    const service = positionals[0];
    let rollouts: readonly RolloutRecord[];
    try {
      const route = service === undefined ? '/history' : `/history?service=${encodeURIComponent(service)}`;
      rollouts = ((await callDaemon(context, 'GET', route, false)).body as { rollouts: readonly RolloutRecord[] }).rollouts;
    } catch (error) {
      const tendError = asTendError(error);
      if (json) terminal.out(`${JSON.stringify({ ok: false, error: errorJson(tendError) }, null, 2)}\n`);
      else terminal.err(formatError(tendError, false));
      return EXIT_NO_DAEMON;
    }
    if (json) terminal.out(`${JSON.stringify({ ok: true, rollouts }, null, 2)}\n`);
    else terminal.out(formatHistory(rollouts, service));
    return EXIT_LISTED;
  },
};

/** Oldest first, as a terminal reads a log: the newest rollout is the last line, next to the prompt. */
export function formatHistory(rollouts: readonly RolloutRecord[], service: string | undefined): string {
  if (rollouts.length === 0) return `no rollout${service === undefined ? '' : ` of ${service}`} recorded yet\n`;
  const lines: string[] = [];
  for (const rollout of rollouts) {
    const result = rollout.code === undefined ? rollout.result : `${rollout.result} ${rollout.code}`;
    lines.push(`${utc(rollout.startedAt)}  ${took(rollout.endedAt - rollout.startedAt).padStart(6)}  ${rollout.service.padEnd(12)} ${result.padEnd(28)} ${shortCommit(rollout.commit)}  ${rollout.subject}  (${rollout.author})`);
    const notes: string[] = [];
    if (rollout.failedHosts.length > 0) notes.push(`failed hosts: ${rollout.failedHosts.join(', ')}`);
    if (rollout.revertCommit !== undefined) notes.push(`reverted by ${shortCommit(rollout.revertCommit)}`);
    if (rollout.reverts !== undefined) notes.push(`rollback: reverts ${shortCommit(rollout.reverts)}`);
    if (notes.length > 0) lines.push(`${''.padEnd(30)}${notes.join('; ')}`);
  }
  return `${lines.join('\n')}\n`;
}

function utc(at: number): string {
  return `${new Date(at).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

function took(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.round(seconds / 60);
  return minutes < 120 ? `${minutes}m` : `${Math.floor(minutes / 60)}h${minutes % 60}m`;
}
