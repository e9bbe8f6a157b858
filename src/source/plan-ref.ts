import { TendError } from '../errors/index.js';
import { checkBranchName } from './branch-name.js';

/**
 * A ref someone asks the daemon to plan (`POST /api/v1/plan`, a pull request's head): a commit sha, a full
 * ref (`refs/pull/7/head`) or a branch name. It ends up in a fetch request and a ref path, so it is held to
 * git's ref-name rules first.
 */
export type PlanRef = { readonly kind: 'sha'; readonly sha: string } | { readonly kind: 'ref'; readonly ref: string };

/** Where fetched refs to plan are kept: never under refs/remotes, so the followed branch's ref never moves. */
export const PLAN_REF_NAMESPACE = 'refs/tend/plan';

export function parsePlanRef(text: string): PlanRef {
  if (/^[0-9a-f]{40}$/.test(text)) return { kind: 'sha', sha: text };
  try {
    return { kind: 'ref', ref: checkBranchName(text) };
  } catch (error) {
    throw new TendError('E_PLAN_REF', 'invalid', `${JSON.stringify(text)} is neither a full commit sha nor a valid git ref name`, {
      hint: 'Give a branch (feature/x), a full ref (refs/pull/7/head) or a 40-character commit sha.',
      cause: error,
    });
  }
}

export function planRefMissingError(ref: string, description: string, cause?: unknown): TendError {
  return new TendError('E_PLAN_REF_MISSING', 'invalid', `${ref} is not on ${description}`, {
    hint: 'Push the branch first, or check its name; a sha must be reachable from a branch of the server.',
    ...(cause === undefined ? {} : { cause }),
  });
}
