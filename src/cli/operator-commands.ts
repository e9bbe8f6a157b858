import { userInfo } from 'node:os';
import { parseDuration } from '../spec/index.js';
import { EXIT_USAGE, type Command, type CommandContext } from './command.js';
import { callDaemon, serverOptions, tokenOption } from './daemon-client.js';
import { UsageError } from './usage-error.js';

const EXIT_DONE = 0;
const EXIT_REFUSED = 1;

async function operatorCall(context: CommandContext, action: 'retry' | 'ack'): Promise<number> {
  const service = context.positionals[0];
  const route = `/api/v1/${action}${service === undefined ? '' : `?service=${encodeURIComponent(service)}`}`;
  return answer(context, route, (body) => {
    const cleared = (body['cleared'] as string[] | undefined) ?? [];
    if (cleared.length === 0) return `nothing to ${action}: no matching halt\n`;
    return `cleared: ${cleared.map((name) => (name === '*' ? 'the whole repo' : name)).join(', ')}; the daemon reconciles now\n`;
  });
}

/** One operator call; prints what `done` makes of an accepted answer, or why the daemon refused. */
async function answer(context: CommandContext, route: string, done: (body: Record<string, unknown>) => string): Promise<number> {
  const reply = await callDaemon(context, 'POST', route, true);
  const body = reply.body as Record<string, unknown>;
  if (context.values['json'] === true) context.terminal.out(`${JSON.stringify({ ok: reply.status === 200, ...body }, null, 2)}\n`);
  else if (reply.status === 200) context.terminal.out(done(body));
  else context.terminal.err(`error: the daemon refused: ${String(body['error'] ?? reply.status)}\n`);
  return reply.status === 200 ? EXIT_DONE : EXIT_REFUSED;
}

export const retryCommand: Command = {
  name: 'retry',
  usage: 'tend retry [SERVICE] [--server URL] [--token-file FILE] [--json]',
  description:
    'Invalid and conflict errors stall a service with zero retries until its inputs change. When a person\n' +
    'fixed the cause outside git (a host key re-pinned, a disk freed, a host repaired), `tend retry` clears\n' +
    'the stall of SERVICE (or of everything) and the daemon reconciles at once.',
  options: { ...serverOptions, ...tokenOption },
  exitCodes: [
    [EXIT_DONE, 'the daemon accepted'],
    [EXIT_REFUSED, 'the daemon refused (wrong token)'],
    [EXIT_USAGE, 'usage error'],
  ],
  usageExitCode: EXIT_USAGE,
  maxPositionals: 1,
  run: (context) => operatorCall(context, 'retry'),
};

export const ackCommand: Command = {
  name: 'ack',
  usage: 'tend ack [--server URL] [--token-file FILE] [--json]',
  description:
    'When the branch head stops descending from the last commit tend applied (a force-push, a reset), tend\n' +
    'pauses with E_HISTORY_REWRITTEN instead of deploying whatever the branch now holds. Check the new head,\n' +
    'then `tend ack` to let the daemon reconcile to it.',
  options: { ...serverOptions, ...tokenOption },
  exitCodes: [
    [EXIT_DONE, 'the daemon accepted'],
    [EXIT_REFUSED, 'the daemon refused (wrong token)'],
    [EXIT_USAGE, 'usage error'],
  ],
  usageExitCode: EXIT_USAGE,
  maxPositionals: 0,
  run: (context) => operatorCall(context, 'ack'),
};

export const pauseCommand: Command = {
  name: 'pause',
  usage: 'tend pause SERVICE --reason TEXT --for DURATION [--owner NAME] [--server URL] [--token-file FILE] [--json]',
  description:
    'While paused, no rollout or rollback touches SERVICE; status shows it as Paused with who, why and until\n' +
    'when. A pause that outlives --for stays in force and is reported as expired (W_PAUSE_EXPIRED, and the\n' +
    'TendPauseExpired alert) rather than resuming behind on-call\'s back. `tend resume SERVICE` ends it.',
  options: {
    ...serverOptions,
    ...tokenOption,
    reason: { type: 'string', valueName: 'TEXT', description: 'Why (shown in status and alerts). Required.' },
    for: { type: 'string', valueName: 'DURATION', description: 'How long, e.g. 30m or 2h. Required.' },
    owner: { type: 'string', valueName: 'NAME', description: 'Who paused it (default: the user running the command).' },
  },
  exitCodes: [
    [EXIT_DONE, 'paused'],
    [EXIT_REFUSED, 'the daemon refused (unknown service, wrong token)'],
    [EXIT_USAGE, 'usage error'],
  ],
  usageExitCode: EXIT_USAGE,
  maxPositionals: 1,
  run(context) {
    const service = context.positionals[0];
    const reason = context.values['reason'];
    const duration = context.values['for'];
    if (service === undefined) throw new UsageError('tend pause needs the SERVICE to pause');
    if (typeof reason !== 'string' || reason.trim() === '') throw new UsageError('tend pause needs --reason', 'Say why, for whoever is on call next.');
    if (typeof duration !== 'string') throw new UsageError('tend pause needs --for DURATION', 'For example --for 2h; an expired pause alerts.');
    const parsed = parseDuration(duration);
    if (parsed === undefined || parsed <= 0) throw new UsageError(`--for ${duration} is not a duration`, 'Write it as 30m, 2h or 1h30m.');
    const owner = typeof context.values['owner'] === 'string' ? context.values['owner'] : userInfo().username;
    const until = Date.now() + parsed;
    const query = new URLSearchParams({ service, owner, reason, until: String(until) });
    return answer(context, `/api/v1/pause?${query.toString()}`, () => `paused ${service} until ${new Date(until).toISOString()}\n`);
  },
};

export const resumeCommand: Command = {
  name: 'resume',
  usage: 'tend resume SERVICE [--server URL] [--token-file FILE] [--json]',
  description: 'Lifts `tend pause SERVICE`; the daemon reconciles at once, so a commit that waited rolls out now.',
  options: { ...serverOptions, ...tokenOption },
  exitCodes: [
    [EXIT_DONE, 'resumed'],
    [EXIT_REFUSED, 'the daemon refused (not paused, wrong token)'],
    [EXIT_USAGE, 'usage error'],
  ],
  usageExitCode: EXIT_USAGE,
  maxPositionals: 1,
  run(context) {
    const service = context.positionals[0];
    if (service === undefined) throw new UsageError('tend resume needs the SERVICE to resume');
    return answer(context, `/api/v1/resume?service=${encodeURIComponent(service)}`, () => `resumed ${service}; the daemon reconciles now\n`);
  },
};
