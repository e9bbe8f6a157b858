import type { Command, CommandContext } from './command.js';
import { callDaemon, serverOptions, tokenOption } from './daemon-client.js';

const EXIT_DONE = 0;
const EXIT_REFUSED = 1;

async function operatorCall(context: CommandContext, action: 'retry' | 'ack'): Promise<number> {
  const service = context.positionals[0];
  const route = `/api/v1/${action}${service === undefined ? '' : `?service=${encodeURIComponent(service)}`}`;
  const answer = await callDaemon(context, 'POST', route, true);
  const body = answer.body as { cleared?: string[]; error?: string };
  if (context.values['json'] === true) {
    context.terminal.out(`${JSON.stringify({ ok: answer.status === 200, ...body }, null, 2)}\n`);
  } else if (answer.status !== 200) {
    context.terminal.err(`error: the daemon refused: ${body.error ?? answer.status}\n`);
  } else if ((body.cleared ?? []).length === 0) {
    context.terminal.out(`nothing to ${action}: no matching halt\n`);
  } else {
    context.terminal.out(`cleared: ${(body.cleared ?? []).map((name) => (name === '*' ? 'the whole repo' : name)).join(', ')}; the daemon reconciles now\n`);
  }
  return answer.status === 200 ? EXIT_DONE : EXIT_REFUSED;
}

export const retryCommand: Command = {
  name: 'retry',
  summary: 'Clear a stall (conflict, failed rollback, exhausted retries) so the daemon tries again now.',
  usage: 'tend retry [SERVICE] [--server URL] [--token-file FILE] [--json]',
  description:
    'Invalid and conflict errors stall a service with zero retries until its inputs change. When a person\n' +
    'fixed the cause outside git (a host key re-pinned, a disk freed, a host repaired), `tend retry` clears\n' +
    'the stall of SERVICE (or of everything) and the daemon reconciles at once.',
  options: { ...serverOptions, ...tokenOption },
  exitCodes: [
    [EXIT_DONE, 'the daemon accepted'],
    [EXIT_REFUSED, 'the daemon refused (wrong token)'],
    [2, 'usage error'],
  ],
  maxPositionals: 1,
  run: (context) => operatorCall(context, 'retry'),
};

export const ackCommand: Command = {
  name: 'ack',
  summary: 'Acknowledge a rewritten history (force-push) so the daemon follows the new head.',
  usage: 'tend ack [--server URL] [--token-file FILE] [--json]',
  description:
    'When the branch head stops descending from the last commit tend applied (a force-push, a reset), tend\n' +
    'pauses with E_HISTORY_REWRITTEN instead of deploying whatever the branch now holds. Check the new head,\n' +
    'then `tend ack` to let the daemon reconcile to it.',
  options: { ...serverOptions, ...tokenOption },
  exitCodes: [
    [EXIT_DONE, 'the daemon accepted'],
    [EXIT_REFUSED, 'the daemon refused (wrong token)'],
    [2, 'usage error'],
  ],
  maxPositionals: 0,
  run: (context) => operatorCall(context, 'ack'),
};
