import type { ServiceRolloutResult } from '../rollout/index.js';
import type { CommitInfo } from '../source/index.js';
import type { RolloutRecord, RolloutResult } from '../state/index.js';

/**
 * Rollout records kept in the journal. Bounded so the journal stays small on a busy repo (Kinescope's 20–30
 * deployments a day, one record per service that acted, is a week or more); older rollouts are in git.
 */
export const ROLLOUT_HISTORY_LIMIT = 200;

export interface FinishedRollout {
  readonly rolloutId: string;
  readonly commit: Pick<CommitInfo, 'sha' | 'subject' | 'authorName' | 'authorEmail'>;
  readonly startedAt: number;
  readonly endedAt: number;
  /** When the commit is tend's revert: the commit it reverts. */
  readonly reverts: string | undefined;
  /** The services whose rollout of the commit reached its final result (`judgeApply`'s `finished`). */
  readonly finished: readonly { readonly service: string; readonly result: Exclude<ServiceRolloutResult['result'], 'unchanged'> }[];
  readonly results: readonly ServiceRolloutResult[];
}

/** One record per service that finished; a transient attempt that will be retried is not an end. */
export function rolloutRecordsOf(rollout: FinishedRollout): RolloutRecord[] {
  const records: RolloutRecord[] = [];
  for (const { service, result } of rollout.finished) {
    if (result === 'skipped') continue;
    const outcome = rollout.results.find((one) => one.service === service);
    records.push({
      rolloutId: rollout.rolloutId,
      service,
      commit: rollout.commit.sha,
      subject: rollout.commit.subject,
      author: `${rollout.commit.authorName} <${rollout.commit.authorEmail}>`,
      startedAt: rollout.startedAt,
      endedAt: rollout.endedAt,
      result: result satisfies RolloutResult,
      code: result === 'succeeded' || outcome === undefined ? undefined : codeOf(outcome),
      failedHosts: outcome === undefined ? [] : failedHostsOf(outcome),
      reverts: rollout.reverts,
      revertCommit: undefined,
    });
  }
  return records;
}

/** The history with `records` appended, the oldest dropped past `limit`. */
export function appendRollouts(history: readonly RolloutRecord[], records: readonly RolloutRecord[], limit = ROLLOUT_HISTORY_LIMIT): readonly RolloutRecord[] {
  if (records.length === 0) return history;
  const next = [...history, ...records];
  return next.length > limit ? next.slice(next.length - limit) : next;
}

/** The failed rollout of `service` in `rolloutId`, now reverted by `revertCommit`. */
export function withRevertCommit(history: readonly RolloutRecord[], rolloutId: string, service: string, revertCommit: string): readonly RolloutRecord[] {
  if (!history.some((record) => record.rolloutId === rolloutId && record.service === service)) return history;
  return history.map((record) => (record.rolloutId === rolloutId && record.service === service ? { ...record, revertCommit } : record));
}

/** The code a person looks up: the failing host's own (E_UNIT_FAILED) before the rollout's summary (E_CANARY_FAILED). */
function codeOf(result: ServiceRolloutResult): string | undefined {
  const failed = result.steps.find((step) => step.outcome === 'failed' || step.outcome === 'unreachable');
  return failed?.code ?? result.outcome?.cause?.code ?? result.code;
}

function failedHostsOf(result: ServiceRolloutResult): string[] {
  const hosts = result.steps.filter((step) => step.outcome === 'failed' || step.outcome === 'unreachable').map((step) => step.host);
  const cause = result.outcome?.cause?.host;
  if (cause !== undefined && result.result !== 'succeeded') hosts.push(cause);
  return [...new Set(hosts)];
}
