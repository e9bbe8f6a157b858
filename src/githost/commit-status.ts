import { formatIssue } from '../errors/index.js';
import type { RefPlan } from '../preview/index.js';

/** The states GitHub and Gitea both accept for a commit status (Gitea also has `warning`, unused). */
export type CommitState = 'pending' | 'success' | 'failure' | 'error';

/** `tend/plan` on a pull request's head; `tend/deploy` on each commit of the followed branch tend applies. */
export type StatusContext = 'tend/plan' | 'tend/deploy';

export interface CommitStatus {
  readonly sha: string;
  readonly context: StatusContext;
  readonly state: CommitState;
  /** One line; GitHub refuses more than 140 characters. */
  readonly description: string;
}

const DESCRIPTION_LIMIT = 140;

/** A description cut to what the git host accepts, on one line. */
export function statusDescription(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= DESCRIPTION_LIMIT ? line : `${line.slice(0, DESCRIPTION_LIMIT - 1)}…`;
}

/**
 * `tend/plan` of a planned ref: success when the ref is valid (with what it would change), failure when it
 * is invalid (with its first issue), error when tend could not make the plan (a host not observed).
 */
export function planStatus(plan: RefPlan): CommitStatus {
  const status = (state: CommitState, text: string): CommitStatus => ({ sha: plan.sha, context: 'tend/plan', state, description: statusDescription(text) });
  switch (plan.verdict) {
    case 'invalid': {
      const first = plan.issues[0];
      const count = `${plan.issues.length} ${plan.issues.length === 1 ? 'error' : 'errors'}`;
      return status('failure', first === undefined ? `invalid: ${count}` : `invalid (${count}): ${formatIssue(first)}`);
    }
    case 'error':
      return status('error', `could not plan: ${plan.error?.code ?? 'unknown'}: ${plan.error?.message ?? ''}`);
    case 'no-changes':
      return status('success', `valid; no changes (${plan.summary.actions.unchanged} placements up to date)`);
    case 'changes': {
      const { create, update, restart, prune } = plan.summary.actions;
      const counts = [
        [create, 'to create'],
        [update, 'to update'],
        [restart, 'to restart'],
        [prune, 'to prune'],
      ]
        .filter(([count]) => count !== 0)
        .map(([count, what]) => `${count} ${what}`)
        .join(', ');
      return status('success', `valid; ${counts} in ${plan.services?.join(', ') ?? 'all services'}`);
    }
  }
}

/** `tend/plan` when the plan could not even start (the ref is gone, the git server is down). */
export function planRefusedStatus(sha: string, code: string, message: string): CommitStatus {
  return { sha, context: 'tend/plan', state: 'error', description: statusDescription(`could not plan: ${code}: ${message}`) };
}
