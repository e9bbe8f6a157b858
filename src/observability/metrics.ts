import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ErrorClass } from '../errors/index.js';
import { packageVersion } from './build-info.js';
import { SERVICE_NAME } from '../spec/service-names.js';

/**
 * Every label value outside its known set becomes this one. It starts with `_`, which no service name
 * (spec/service-names.ts) or host name (`^[a-z0-9][a-z0-9.-]*$`) can, so it never merges into a real name.
 */
const OTHER = '_other';
/** The stand-in for a reason code that does not look like one of ours. */
const OTHER_CODE = 'E_OTHER';

const HOST_NAME = /^[a-z0-9][a-z0-9.-]{0,252}$/;
const CODE = /^[EW]_[A-Z0-9_]{1,64}$/;
const COMMIT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

const SERVICE_STATES = ['Synced', 'Progressing', 'Degraded', 'RolledBack', 'Stalled', 'Waiting', 'Drifted', 'Paused'] as const;
const ERROR_CLASSES: readonly ErrorClass[] = ['transient', 'change', 'invalid', 'conflict', 'internal'];
const PASS_RESULTS = ['idle', 'again', 'retry', 'failed'] as const;
const ROLLOUT_RESULTS = ['succeeded', 'failed-change', 'failed-transient', 'failed-invalid', 'failed-conflict', 'failed-internal', 'skipped', 'superseded'] as const;
const ROLLBACK_RESULTS = ['pushed', 'conflict', 'failed', 'halted'] as const;
const GITHOST_PROVIDERS = ['github', 'gitea', 'gitlab'] as const;
const GITHOST_PUBLISH_KINDS = ['status', 'comment'] as const;

/** How a reconcile pass ended: the daemon's pass outcome (`idle`, `again`, `retry`), or `failed` when it threw. */
export type PassResult = (typeof PASS_RESULTS)[number];
/** How one service's rollout (or one attempt of it) ended; `unchanged` services had no rollout and are not counted. */
export type RolloutMetricResult = (typeof ROLLOUT_RESULTS)[number];
/**
 * What became of a revert tend decided it needs: `pushed` (the revert commit landed), `conflict` (git could
 * not revert, or the push was refused), `failed` (tend's own revert did not become healthy, or the push kept
 * failing), `halted` (the revert policy left it to a person: auto_rollback off, no baseline, ...).
 */
export type RollbackResult = (typeof ROLLBACK_RESULTS)[number];
/** What tend publishes to a git host: a commit status (`tend/plan`, `tend/deploy`) or a pull request's comment. */
export type GitHostPublishKind = (typeof GITHOST_PUBLISH_KINDS)[number];

/** The part of the daemon's status the state gauges show; `DaemonStatus` fits it as it is. */
export interface StatusSample {
  readonly stalled: { readonly code: string; readonly errorClass: ErrorClass; readonly since: number } | undefined;
  readonly services: readonly {
    readonly service: string;
    readonly state: string;
    readonly code: string | undefined;
    readonly errorClass: ErrorClass | undefined;
    readonly since: number;
  }[];
}

export interface TendMetricsOptions {
  /**
   * When tend started (ms since the epoch). The last-fetch gauge starts here, so a tend that never reaches
   * its source goes stale after the same 10 minutes as one that lost it, instead of alerting at every start.
   */
  readonly startedAt?: number;
}

/**
 * The daemon's Prometheus metrics, on a registry of its own (never prom-client's global one, so two daemons
 * in one test process do not share series). Label values come only from bounded sets: service and host
 * names of the loaded spec, fixed unions of states and results, and reason codes shaped like ours; anything
 * else is counted as `_other` / `E_OTHER`, so a bug or a hostile repo cannot grow the series without bound.
 * Messages, paths and URLs never become labels; a commit sha only in `tend_applied_commit_info`.
 */
export class TendMetrics {
  readonly #registry = new Registry();
  readonly #services = new Set<string>();
  readonly #hosts = new Set<string>();
  /** The label sets whose series must go when their service or host leaves the spec or the status. */
  readonly #drift = new Map<string, { service: string; host: string }>();
  readonly #stalled = new Map<string, { code: string; error_class: string }>();
  #inStatus = new Set<string>();

  readonly #reconcileRuns = new Counter({ name: 'tend_reconcile_runs_total', help: 'Reconcile passes, by how they ended (idle, again, retry, failed).', labelNames: ['result'], registers: [this.#registry] });
  readonly #reconcileDuration = new Histogram({
    name: 'tend_reconcile_duration_seconds',
    help: 'How long a reconcile pass took, rollouts included.',
    buckets: [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
    registers: [this.#registry],
  });
  readonly #lastFetchOk = new Gauge({
    name: 'tend_source_last_fetch_success_timestamp_seconds',
    help: 'When tend last fetched the deploy repo successfully; tend\'s start time until the first fetch succeeds.',
    registers: [this.#registry],
  });
  readonly #fetchFailures = new Counter({ name: 'tend_source_fetch_failures_total', help: 'Failed fetches of the deploy repo, by reason code.', labelNames: ['code'], registers: [this.#registry] });
  readonly #appliedCommit = new Gauge({ name: 'tend_applied_commit_info', help: 'The head commit whose rollout fully converged (1 for the current one only).', labelNames: ['commit'], registers: [this.#registry] });
  readonly #appliedAt = new Gauge({ name: 'tend_applied_commit_timestamp_seconds', help: 'When the rollout of the applied commit converged.', registers: [this.#registry] });
  readonly #serviceState = new Gauge({
    name: 'tend_service_state',
    help: 'The state of each service: 1 for the current state, 0 for every other.',
    labelNames: ['service', 'state'],
    registers: [this.#registry],
  });
  readonly #serviceStalled = new Gauge({
    name: 'tend_service_stalled',
    help: 'Services that wait for a person, with the reason code and error class (1 while stalled).',
    labelNames: ['service', 'code', 'error_class'],
    registers: [this.#registry],
  });
  readonly #stateSince = new Gauge({ name: 'tend_service_state_since_timestamp_seconds', help: 'When each service entered its current state.', labelNames: ['service'], registers: [this.#registry] });
  readonly #repoStalledSince = new Gauge({
    name: 'tend_repo_stalled_since_timestamp_seconds',
    help: 'While the whole repo is stalled (invalid commit, rewritten history): when it stalled, with the reason code and error class.',
    labelNames: ['code', 'error_class'],
    registers: [this.#registry],
  });
  readonly #rollouts = new Counter({
    name: 'tend_rollouts_total',
    help: 'Rollouts of a commit to a service, by final result: counted once per rollout when it ends, not per attempt (see tend_rollout_attempts_total).',
    labelNames: ['service', 'result'],
    registers: [this.#registry],
  });
  readonly #rolloutAttempts = new Counter({
    name: 'tend_rollout_attempts_total',
    help: 'Attempts at rolling a commit out to a service, by result: every attempt, each transient retry included.',
    labelNames: ['service', 'result'],
    registers: [this.#registry],
  });
  readonly #rollbacks = new Counter({ name: 'tend_rollbacks_total', help: 'Reverts tend attempted for a service, by result (pushed, conflict, failed, halted).', labelNames: ['service', 'result'], registers: [this.#registry] });
  readonly #rollbackFailed = new Gauge({ name: 'tend_rollback_failed', help: 'Services whose rollback failed, until they are healthy again (1 while failed).', labelNames: ['service'], registers: [this.#registry] });
  readonly #probeDuration = new Histogram({
    name: 'tend_probe_duration_seconds',
    help: 'How long one health probe of a service took.',
    labelNames: ['service'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.#registry],
  });
  readonly #hostUp = new Gauge({ name: 'tend_host_up', help: 'Whether tend reached the host over SSH at its last observation.', labelNames: ['host'], registers: [this.#registry] });
  readonly #driftGauge = new Gauge({ name: 'tend_drift', help: 'Whether a host differs from what the applied commit says for a service (1 while drifted).', labelNames: ['service', 'host'], registers: [this.#registry] });
  readonly #paused = new Gauge({ name: 'tend_service_paused', help: 'Whether rollouts of the service are paused.', labelNames: ['service'], registers: [this.#registry] });
  readonly #pauseExpiry = new Gauge({ name: 'tend_pause_expiry_timestamp_seconds', help: 'When the pause of a paused service ends, if it has an end.', labelNames: ['service'], registers: [this.#registry] });
  readonly #mergeToHealthy = new Histogram({
    name: 'tend_merge_to_healthy_seconds',
    help: 'From a commit\'s committer time to every host of the service healthy at it.',
    labelNames: ['service'],
    buckets: [30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 21600, 86400],
    registers: [this.#registry],
  });

  /** Read once; a package.json that cannot be read must not fail every scrape. */
  readonly #version = packageVersion().catch(() => 'unknown');
  readonly #leader = new Gauge({ name: 'tend_leader', help: 'Whether this instance leads (may act): 1 for the leader, and for a tend without ha; 0 for a standby or while etcd is unavailable.', registers: [this.#registry] });
  readonly #leaderInfo = new Gauge({ name: 'tend_leader_info', help: 'The identity of the instance that leads, as this instance knows it (1 for that identity only; none while no instance leads).', labelNames: ['identity'], registers: [this.#registry] });
  readonly #leaseRenewed = new Gauge({ name: 'tend_leader_lease_renewed_timestamp_seconds', help: 'When etcd last confirmed this instance\'s lease (the lease age is the time since).', registers: [this.#registry] });
  readonly #githostFailures = new Counter({
    name: 'tend_githost_publish_failures_total',
    help: 'Commit statuses and pull request comments tend gave up publishing to the git host after its retries, by provider and kind.',
    labelNames: ['provider', 'kind'],
    registers: [this.#registry],
  });
  readonly #githostDropped = new Counter({
    name: 'tend_githost_publish_dropped_total',
    help: 'Commit statuses and pull request comments dropped unpublished because the git host publish queue was full, by provider and kind.',
    labelNames: ['provider', 'kind'],
    registers: [this.#registry],
  });
  readonly #buildInfo = new Gauge({
    name: 'tend_build_info',
    help: 'The tend version (from its package.json) and the Node.js version it runs on; always 1.',
    labelNames: ['version', 'node_version'],
    registers: [this.#registry],
    collect: async () => {
      this.#buildInfo.reset();
      this.#buildInfo.set({ version: await this.#version, node_version: process.version }, 1);
    },
  });

  constructor(options: TendMetricsOptions = {}) {
    collectDefaultMetrics({ register: this.#registry });
    // Gauges named like counters, which `promtool check metrics` refuses; nodejs_active_handles,
    // nodejs_active_requests and nodejs_active_resources hold the same counts by type.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.#registry.removeSingleMetric(name);
    this.#lastFetchOk.set(seconds(options.startedAt ?? Date.now()));
    for (const result of PASS_RESULTS) this.#reconcileRuns.inc({ result }, 0);
  }

  /** The `Content-Type` of `metricsText()`. */
  get contentType(): string {
    return this.#registry.contentType;
  }

  /** The text exposition for `GET /metrics`. */
  metricsText(): Promise<string> {
    return this.#registry.metrics();
  }

  /**
   * A commit loaded: its service and host names are the label values allowed from now on. Series of names
   * it no longer has are dropped, so a removed service cannot keep an alert firing. Counters start at 0 for
   * every service, so the first rollback shows as an increase.
   */
  specLoaded(names: { readonly services: Iterable<string>; readonly hosts: Iterable<string> }): void {
    const services = new Set([...names.services].filter((name) => SERVICE_NAME.test(name)));
    const hosts = new Set([...names.hosts].filter((name) => HOST_NAME.test(name)));
    for (const service of this.#services) if (!services.has(service)) this.#forgetService(service);
    for (const host of this.#hosts) if (!hosts.has(host)) this.#forgetHost(host);
    this.#services.clear();
    this.#hosts.clear();
    for (const service of services) {
      this.#services.add(service);
      for (const result of ROLLOUT_RESULTS) {
        this.#rollouts.inc({ service, result }, 0);
        this.#rolloutAttempts.inc({ service, result }, 0);
      }
      for (const result of ROLLBACK_RESULTS) this.#rollbacks.inc({ service, result }, 0);
    }
    for (const host of hosts) this.#hosts.add(host);
  }

  passFinished(result: PassResult, durationMs: number): void {
    this.#reconcileRuns.inc({ result: oneOf(PASS_RESULTS, result) });
    this.#reconcileDuration.observe(duration(durationMs));
  }

  fetchSucceeded(at: number): void {
    this.#lastFetchOk.set(seconds(at));
  }

  fetchFailed(code: string): void {
    this.#fetchFailures.inc({ code: reasonCode(code) });
  }

  /** The head commit's rollout converged on every service: it is what the hosts run now. */
  commitApplied(commit: string, at: number): void {
    this.#appliedCommit.reset();
    this.#appliedCommit.set({ commit: COMMIT.test(commit) ? commit : OTHER }, 1);
    this.#appliedAt.set(seconds(at));
  }

  /**
   * The daemon published a new status: every service it lists gets all six state series (one of them 1),
   * its since, and its stall; services it no longer lists lose theirs. Idempotent, so calling it after every
   * phase keeps metrics and `/status` showing the same state, code and class.
   */
  statusPublished(status: StatusSample): void {
    const listed = new Set<string>();
    for (const entry of status.services) {
      const service = this.#service(entry.service);
      listed.add(service);
      const state = oneOf(SERVICE_STATES, entry.state);
      for (const one of [...SERVICE_STATES, OTHER]) this.#serviceState.set({ service, state: one }, one === state ? 1 : 0);
      this.#stateSince.set({ service }, seconds(entry.since));
      const stall = state === 'Stalled' ? { code: reasonCode(entry.code), error_class: oneOf(ERROR_CLASSES, entry.errorClass) } : undefined;
      this.#setStall(service, stall);
      if (state === 'Synced' || state === 'RolledBack') this.#rollbackFailed.remove({ service });
    }
    for (const service of this.#inStatus) if (!listed.has(service)) this.#forgetState(service);
    this.#inStatus = listed;
    this.#repoStalledSince.reset();
    if (status.stalled !== undefined) {
      this.#repoStalledSince.set({ code: reasonCode(status.stalled.code), error_class: oneOf(ERROR_CLASSES, status.stalled.errorClass) }, seconds(status.stalled.since));
    }
  }

  /** With `ha`: this instance's role, who leads, and its lease's last renewal. Without it: called once, leading. */
  leadershipObserved(observed: { readonly leading: boolean; readonly leader: string | undefined; readonly renewedAt: number | undefined }): void {
    this.#leader.set(observed.leading ? 1 : 0);
    this.#leaderInfo.reset();
    if (observed.leader !== undefined) this.#leaderInfo.set({ identity: observed.leader.slice(0, 128) }, 1);
    if (observed.renewedAt !== undefined) this.#leaseRenewed.set(seconds(observed.renewedAt));
  }

  /**
   * The rollout of a commit to a service ended with this final result: once per (commit, service), however
   * many attempts it took (not called for services the plan left unchanged).
   */
  rolloutFinished(service: string, result: RolloutMetricResult): void {
    this.#rollouts.inc({ service: this.#service(service), result: oneOf(ROLLOUT_RESULTS, result) });
  }

  /** One attempt at a service's rollout ended: every apply result, each transient retry included. */
  rolloutAttemptFinished(service: string, result: RolloutMetricResult): void {
    this.#rolloutAttempts.inc({ service: this.#service(service), result: oneOf(ROLLOUT_RESULTS, result) });
  }

  /** A revert tend needed for a service ended; a failure raises `tend_rollback_failed` until the service is healthy. */
  rollbackFinished(service: string, result: RollbackResult): void {
    const name = this.#service(service);
    const bounded = oneOf(ROLLBACK_RESULTS, result);
    this.#rollbacks.inc({ service: name, result: bounded });
    if (bounded === 'failed' || bounded === 'conflict') this.#rollbackFailed.set({ service: name }, 1);
    else if (bounded === 'pushed') this.#rollbackFailed.remove({ service: name });
  }

  probeFinished(service: string, latencyMs: number): void {
    this.#probeDuration.observe({ service: this.#service(service) }, duration(latencyMs));
  }

  /** The outcome of observing a host: reachable over SSH, or not (after the connection's own retries). */
  hostObserved(host: string, reachable: boolean): void {
    this.#hostUp.set({ host: this.#host(host) }, reachable ? 1 : 0);
  }

  /** A resync compared a host with the applied commit for a service. */
  driftObserved(service: string, host: string, drifted: boolean): void {
    const labels = { service: this.#service(service), host: this.#host(host) };
    this.#drift.set(`${labels.service}\n${labels.host}`, labels);
    this.#driftGauge.set(labels, drifted ? 1 : 0);
  }

  /** Rollouts of a service were paused, until `until` (ms since the epoch) or indefinitely. */
  servicePaused(service: string, until: number | undefined): void {
    const name = this.#service(service);
    this.#paused.set({ service: name }, 1);
    if (until === undefined) this.#pauseExpiry.remove({ service: name });
    else this.#pauseExpiry.set({ service: name }, seconds(until));
  }

  servicePauseLifted(service: string): void {
    const name = this.#service(service);
    this.#paused.set({ service: name }, 0);
    this.#pauseExpiry.remove({ service: name });
  }

  /** Every host of a service became healthy at a commit: how long since the commit was made. */
  serviceHealthyAt(service: string, committedAt: number, healthyAt: number): void {
    this.#mergeToHealthy.observe({ service: this.#service(service) }, duration(healthyAt - committedAt));
  }

  /** A git host is configured: its failure counters start at 0, so the first failure shows as an increase. */
  githostConfigured(provider: string): void {
    const bounded = oneOf(GITHOST_PROVIDERS, provider);
    for (const kind of GITHOST_PUBLISH_KINDS) {
      this.#githostFailures.inc({ provider: bounded, kind }, 0);
      this.#githostDropped.inc({ provider: bounded, kind }, 0);
    }
  }

  /** A publication to the git host was given up on after its retries (`gave-up`) or dropped from a full queue. */
  githostPublishLost(provider: string, kind: GitHostPublishKind, how: 'gave-up' | 'dropped'): void {
    const labels = { provider: oneOf(GITHOST_PROVIDERS, provider), kind: oneOf(GITHOST_PUBLISH_KINDS, kind) };
    (how === 'gave-up' ? this.#githostFailures : this.#githostDropped).inc(labels);
  }

  #service(name: string): string {
    return this.#services.has(name) ? name : OTHER;
  }

  #host(name: string): string {
    return this.#hosts.has(name) ? name : OTHER;
  }

  #setStall(service: string, stall: { code: string; error_class: string } | undefined): void {
    const previous = this.#stalled.get(service);
    if (previous !== undefined && (stall === undefined || previous.code !== stall.code || previous.error_class !== stall.error_class)) {
      this.#serviceStalled.remove({ service, ...previous });
      this.#stalled.delete(service);
    }
    if (stall === undefined) return;
    this.#serviceStalled.set({ service, ...stall }, 1);
    this.#stalled.set(service, stall);
  }

  #forgetState(service: string): void {
    for (const state of [...SERVICE_STATES, OTHER]) this.#serviceState.remove({ service, state });
    this.#stateSince.remove({ service });
    this.#setStall(service, undefined);
    this.#inStatus.delete(service);
  }

  #forgetService(service: string): void {
    this.#forgetState(service);
    for (const result of ROLLOUT_RESULTS) {
      this.#rollouts.remove({ service, result });
      this.#rolloutAttempts.remove({ service, result });
    }
    for (const result of ROLLBACK_RESULTS) this.#rollbacks.remove({ service, result });
    for (const metric of [this.#rollbackFailed, this.#paused, this.#pauseExpiry]) metric.remove({ service });
    for (const metric of [this.#probeDuration, this.#mergeToHealthy]) metric.remove({ service });
    this.#forgetDrift((labels) => labels.service === service);
  }

  #forgetHost(host: string): void {
    this.#hostUp.remove({ host });
    this.#forgetDrift((labels) => labels.host === host);
  }

  #forgetDrift(matches: (labels: { service: string; host: string }) => boolean): void {
    for (const [key, labels] of this.#drift) {
      if (!matches(labels)) continue;
      this.#driftGauge.remove(labels);
      this.#drift.delete(key);
    }
  }
}

function oneOf<T extends string>(allowed: readonly T[], value: string | undefined): T | typeof OTHER {
  return allowed.find((one) => one === value) ?? OTHER;
}

function reasonCode(code: string | undefined): string {
  return code !== undefined && CODE.test(code) ? code : OTHER_CODE;
}

function seconds(ms: number): number {
  return ms / 1000;
}

/** A clock step backwards must not record a negative duration, which a histogram cannot hold meaningfully. */
function duration(ms: number): number {
  return Math.max(0, ms) / 1000;
}
