import type { RemoteFiles, RunTarget } from '../hosts/index.js';
import type { HostAction } from '../plan/model.js';
import { shortCommit } from '../source/commit-id.js';

/**
 * Who changes a host, and with what: each host step names itself in the host's journal (tag `tend`) at its
 * start and its end, so an operator on the host sees who changed it and when (`journalctl -t tend`), and
 * two tend instances' steps can be told apart and ordered by the host's own clock.
 */
export interface StepActor {
  /** The commit being rolled out; undefined for `tend apply` of a working directory. */
  readonly commit: string | undefined;
  /** The tend instance: its `ha.identity`, the reconciler's host name, or `user@host` for `tend apply`. */
  readonly identity: string;
  /** The commit reverts a bad one: its steps are rollbacks. */
  readonly rollback: boolean;
}

export type StepEdge = { readonly kind: 'begin' } | { readonly kind: 'end'; readonly outcome: 'healthy' | 'failed' | 'unreachable' | 'superseded' };

/**
 * `begin update api commit=1a2b3c4d5e6f by=tend-1` (the step: the plan's action, `judge` for a run begun
 * earlier, `rollback` for a revert's rollout), and at the end `end update api commit=1a2b3c4d5e6f
 * outcome=healthy by=tend-1`. Only names, a commit and an outcome: never a file's content, an environment
 * or a secret. `by=` comes last and runs to the end of the line, whatever the identity holds.
 */
export function hostStepMarkText(edge: StepEdge, service: string, action: HostAction, actor: StepActor, judging: boolean): string {
  // A step that goes on judging a run begun before tend restarted (or before a takeover) changes nothing:
  // it says so rather than the plan's `restart`, which it does not carry out.
  const step = actor.rollback ? 'rollback' : judging ? 'judge' : action;
  const commit = actor.commit === undefined ? 'working-tree' : shortCommit(actor.commit);
  const outcome = edge.kind === 'end' ? [`outcome=${edge.outcome}`] : [];
  return [edge.kind, step, service, `commit=${commit}`, ...outcome, `by=${actor.identity}`].join(' ');
}

/**
 * The pool as one host step sees it: its first command on `host` writes `mark` to the host's journal in
 * the same round trip, so the mark costs no round trip and its time is when the step first touched the host.
 */
export function markingFirstCommand(pool: RemoteFiles, host: RunTarget, mark: string): RemoteFiles {
  let marked = false;
  return {
    run: (target, argv, options = {}) => {
      if (marked || target.name !== host.name) return pool.run(target, argv, options);
      marked = true;
      return pool.run(target, argv, { ...options, journalMark: mark });
    },
    withSftp: (target, work) => pool.withSftp(target, work),
  };
}
