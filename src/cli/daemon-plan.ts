import { isErrorCode, TendError, type ErrorClass, type Issue } from '../errors/index.js';
import type { CommandContext } from './command.js';
import { callDaemon } from './daemon-client.js';
import { formatError } from './error-report.js';
import { EXIT_INVALID, printIssues } from './issue-report.js';

/** A plan observes the hosts of what the ref changes: as long as `tend plan` may take, not a status read. */
const PLAN_TIMEOUT_MS = 600_000;

/**
 * `tend plan --daemon URL --ref REF`: the daemon fetches, validates and plans the ref with its own SSH key
 * and secrets, so a CI job needs only the operator token. Prints what `tend plan` prints and exits as it
 * does: 0 no changes, 2 changes, 1 invalid (issues at file:line:col) or a plan that could not be made.
 */
export async function planOnDaemon(context: CommandContext, ref: string, exits: { readonly noChanges: number; readonly changes: number }): Promise<number> {
  const { terminal } = context;
  const json = context.values['json'] === true;
  const reply = await callDaemon(context, 'POST', `/api/v1/plan?ref=${encodeURIComponent(ref)}`, true, { serverOption: 'daemon', timeoutMs: PLAN_TIMEOUT_MS });
  const body = (reply.body ?? {}) as Record<string, unknown>;
  if (reply.status !== 200) throw refusal(reply.status, body);
  if (json) terminal.out(`${JSON.stringify(withoutText(body), null, 2)}\n`);
  switch (body['verdict']) {
    case 'invalid':
      if (!json) printIssues(terminal, (body['issues'] ?? []) as Issue[]);
      return EXIT_INVALID;
    case 'error':
      if (!json) {
        terminal.out(String(body['text'] ?? ''));
        terminal.err(formatError(refusal(reply.status, body), false));
      }
      return EXIT_INVALID;
    case 'changes':
    case 'no-changes':
      if (!json) terminal.out(String(body['text'] ?? ''));
      return body['verdict'] === 'changes' ? exits.changes : exits.noChanges;
    default:
      throw new TendError('E_DAEMON_ANSWER', 'internal', `the daemon answered a plan without a verdict (HTTP ${reply.status})`);
  }
}

/** Under --json the plan itself is the answer; its text is for people. */
function withoutText(body: Record<string, unknown>): Record<string, unknown> {
  const { text: _text, ...rest } = body;
  return rest;
}

/** The daemon's error as the TendError it was there, so it is shown (and exits) as a local one would be. */
function refusal(status: number, body: Record<string, unknown>): TendError {
  const error = body['error'];
  if (typeof error === 'object' && error !== null) {
    const { code, class: errorClass, message, hint } = error as Record<string, unknown>;
    if (typeof code === 'string' && isErrorCode(code) && typeof message === 'string') {
      return new TendError(code, (errorClass ?? 'conflict') as ErrorClass, message, typeof hint === 'string' ? { hint } : {});
    }
  }
  if (status === 401) {
    return new TendError('E_TOKEN_REFUSED', 'conflict', 'the daemon refused the operator token', {
      hint: 'Pass --token-file with the api-token from the state directory of the tend that --daemon names.',
    });
  }
  return new TendError('E_DAEMON_ANSWER', 'internal', `the daemon answered HTTP ${status}: ${typeof error === 'string' ? error : 'no reason given'}`);
}
