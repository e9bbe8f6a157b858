/**
 * The last-known-good pointer in git (`healthy_refs` in the config, off by default): once a service is
 * healthy at a commit, `refs/tend/healthy/<service>` on the git server moves to it by a compare-and-swap
 * push, so `git log refs/tend/healthy/api` answers "what was the last good state of api" without tend.
 * Derived from the published daemon status alone, off the pass loop.
 */
export { healthyCommits, healthyRefMoves, healthyRefOf } from './healthy-ref-moves.js';
export type { HealthyRefMove } from './healthy-ref-moves.js';
export { createHealthyRefPusher } from './healthy-ref-pusher.js';
export type { HealthyRefPusher, HealthyRefPusherOptions } from './healthy-ref-pusher.js';
