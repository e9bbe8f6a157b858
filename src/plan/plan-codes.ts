import { TendError } from '../errors/index.js';

/** Stable codes the planner can refuse with. */
export type PlanErrorCode = 'E_PRUNE_LIMIT' | 'E_FOREIGN_UNIT';

export function pruneLimitError(pruned: number, managed: number, maxFraction: number): TendError {
  const percent = Math.round((pruned / managed) * 100);
  return new TendError(
    'E_PRUNE_LIMIT',
    'invalid',
    `refusing to prune ${pruned} of ${managed} managed services on hosts (${percent}%), more than prune.max_fraction ${maxFraction}`,
    {
      hint: 'If the removal is intended, raise prune.max_fraction in tend.yml or remove services in smaller commits; otherwise check that the commit did not drop services or empty a group by mistake.',
    },
  );
}

export function foreignUnitMessage(paths: readonly string[]): string {
  return `${paths.join(', ')} exists without tend's ownership marker; tend will not overwrite it`;
}

export const FOREIGN_UNIT_HINT =
  'Remove or rename the existing unit on the host (or give the service another name), then reconcile again.';
