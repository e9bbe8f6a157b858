import { TendError } from '../errors/index.js';

/** Stable codes the planner can refuse with. */
export type PlanErrorCode = 'E_PRUNE_LIMIT' | 'E_FOREIGN_UNIT';

export function pruneLimitError(pruned: number, managed: number, maxFraction: number): TendError {
  const percent = Math.round((pruned / managed) * 100);
  return new TendError(
    'E_PRUNE_LIMIT',
    'invalid',
    `refusing to prune ${pruned} of ${managed} managed services on hosts (${percent}%), more than prune.max_fraction ${maxFraction}`,
  );
}

export function foreignUnitMessage(paths: readonly string[]): string {
  return `${paths.join(', ')} exists without tend's ownership marker; tend will not overwrite it`;
}
