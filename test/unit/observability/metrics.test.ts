import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { ServiceState, ServiceStatus } from '../../../src/status/index.js';
import { TendMetrics, type RollbackResult, type StatusSample } from '../../../src/observability/metrics.js';
import { samplesOf, series } from './exposition.js';

const SHA = 'c'.repeat(40);

function metricsFor(services: readonly string[] = ['api', 'web'], hosts: readonly string[] = ['web-1', 'web-2']): TendMetrics {
  const metrics = new TendMetrics({ startedAt: 1_000_000 });
  metrics.specLoaded({ services, hosts });
  return metrics;
}

function serviceStatus(service: string, state: string, fields: Partial<StatusSample['services'][number]> = {}): StatusSample['services'][number] {
  return { service, state, code: undefined, errorClass: undefined, since: 60_000, ...fields };
}

function labelValues(text: string, label: string): Set<string> {
  return new Set(samplesOf(text).flatMap((sample) => (sample.labels[label] === undefined ? [] : [sample.labels[label]])));
}

describe('label guards', () => {
  it('counts a service the loaded spec does not name as _other', async () => {
    const metrics = metricsFor();
    metrics.rolloutFinished('billing', 'succeeded');
    metrics.probeFinished('../../etc/passwd', 10);
    const text = await metrics.metricsText();
    expect(series(text, 'tend_rollouts_total', { service: '_other', result: 'succeeded' })).toEqual([expect.objectContaining({ value: 1 })]);
    expect(series(text, 'tend_probe_duration_seconds_count', { service: '_other' })).toEqual([expect.objectContaining({ value: 1 })]);
    expect(labelValues(text, 'service')).toEqual(new Set(['api', 'web', '_other']));
  });

  it('counts a host the spec does not name as _other', async () => {
    const metrics = metricsFor();
    metrics.hostObserved('10.0.0.1:22', false);
    metrics.driftObserved('api', 'db-9', true);
    const text = await metrics.metricsText();
    expect(series(text, 'tend_host_up')).toEqual([expect.objectContaining({ labels: { host: '_other' }, value: 0 })]);
    expect(series(text, 'tend_drift')).toEqual([expect.objectContaining({ labels: { service: 'api', host: '_other' }, value: 1 })]);
  });

  it('refuses names in the spec list that are not service or host names', async () => {
    const metrics = metricsFor(['api', 'Bad Name', 'x'.repeat(49)], ['web-1', 'https://evil.example/']);
    metrics.rolloutFinished('Bad Name', 'succeeded');
    metrics.hostObserved('https://evil.example/', true);
    const text = await metrics.metricsText();
    expect(labelValues(text, 'service')).toEqual(new Set(['api', '_other']));
    expect(labelValues(text, 'host')).toEqual(new Set(['_other']));
  });

  it.each([
    ['a message', 'fetch failed: connection refused by 10.0.0.1'],
    ['a lowercase code', 'e_fetch'],
    ['a code with a newline', 'E_FETCH\nE_INJECTED'],
    ['an empty code', ''],
  ])('records %s as the reason code E_OTHER', async (_name, code) => {
    const metrics = metricsFor();
    metrics.fetchFailed(code);
    const text = await metrics.metricsText();
    expect(series(text, 'tend_source_fetch_failures_total')).toEqual([expect.objectContaining({ labels: { code: 'E_OTHER' }, value: 1 })]);
  });

  it('keeps a well-formed code, warnings included', async () => {
    const metrics = metricsFor();
    metrics.fetchFailed('E_FETCH_TIMEOUT');
    metrics.statusPublished({ stalled: { code: 'W_DEPLOY_WINDOW', errorClass: 'transient', since: 0 }, services: [] });
    const text = await metrics.metricsText();
    expect(labelValues(text, 'code')).toEqual(new Set(['E_FETCH_TIMEOUT', 'W_DEPLOY_WINDOW']));
  });

  it('shows an unknown state as _other, still exactly one state at 1', async () => {
    const metrics = metricsFor();
    metrics.statusPublished({ stalled: undefined, services: [serviceStatus('api', 'Exploded')] });
    const text = await metrics.metricsText();
    expect(series(text, 'tend_service_state', { service: 'api' }).filter((sample) => sample.value === 1)).toEqual([expect.objectContaining({ labels: { service: 'api', state: '_other' } })]);
  });

  it('maps results outside the unions to _other', async () => {
    const metrics = metricsFor();
    metrics.rollbackFinished('api', 'exploded' as RollbackResult);
    metrics.passFinished('crashed' as 'failed', 5);
    const text = await metrics.metricsText();
    expect(series(text, 'tend_rollbacks_total', { service: 'api', result: '_other' })).toEqual([expect.objectContaining({ value: 1 })]);
    expect(series(text, 'tend_reconcile_runs_total', { result: '_other' })).toEqual([expect.objectContaining({ value: 1 })]);
  });

  it('puts a commit sha in tend_applied_commit_info only, and refuses anything that is not a sha', async () => {
    const metrics = metricsFor();
    metrics.commitApplied(SHA, 2_000);
    const text = await metrics.metricsText();
    expect(samplesOf(text).filter((sample) => Object.values(sample.labels).includes(SHA)).map((sample) => sample.name)).toEqual(['tend_applied_commit_info']);
    metrics.commitApplied('main; rm -rf /', 3_000);
    expect(series(await metrics.metricsText(), 'tend_applied_commit_info')).toEqual([expect.objectContaining({ labels: { commit: '_other' }, value: 1 })]);
  });
});

describe('state gauges', () => {
  it('knows every state the daemon reports', async () => {
    const states: Record<ServiceState, true> = { Synced: true, Progressing: true, Degraded: true, RolledBack: true, Stalled: true, Waiting: true, Drifted: true, Paused: true };
    for (const state of Object.keys(states)) {
      const metrics = metricsFor();
      metrics.statusPublished({ stalled: undefined, services: [serviceStatus('api', state)] });
      const current = series(await metrics.metricsText(), 'tend_service_state', { service: 'api' }).filter((sample) => sample.value === 1);
      expect(current.map((sample) => sample.labels.state)).toEqual([state]);
    }
  });

  it('exports every state of a service, 1 for the current one and 0 for the rest', async () => {
    const metrics = metricsFor();
    metrics.statusPublished({ stalled: undefined, services: [serviceStatus('api', 'Degraded', { since: 90_000 })] });
    const text = await metrics.metricsText();
    const states = Object.fromEntries(series(text, 'tend_service_state', { service: 'api' }).map((sample) => [sample.labels.state, sample.value]));
    expect(states).toEqual({ Synced: 0, Progressing: 0, Degraded: 1, RolledBack: 0, Stalled: 0, Waiting: 0, Drifted: 0, Paused: 0, _other: 0 });
    expect(series(text, 'tend_service_state_since_timestamp_seconds', { service: 'api' })).toEqual([expect.objectContaining({ value: 90 })]);
  });

  it('takes the daemon status as it is', async () => {
    const metrics = metricsFor();
    const api: ServiceStatus = { service: 'api', state: 'Stalled', code: 'E_HOST_KEY_CHANGED', errorClass: 'conflict', message: 'host key of web-1 changed', hint: undefined, since: 5_000, desiredCommit: SHA, stableCommit: undefined };
    metrics.statusPublished({ stalled: undefined, services: [api] });
    const text = await metrics.metricsText();
    expect(series(text, 'tend_service_stalled')).toEqual([expect.objectContaining({ labels: { service: 'api', code: 'E_HOST_KEY_CHANGED', error_class: 'conflict' }, value: 1 })]);
    expect(text).not.toContain('host key of web-1 changed');
  });

  it('moves the stall series when the code changes and drops it when the service recovers', async () => {
    const metrics = metricsFor();
    metrics.statusPublished({ stalled: undefined, services: [serviceStatus('api', 'Stalled', { code: 'E_REVERT_CONFLICT', errorClass: 'conflict' })] });
    metrics.statusPublished({ stalled: undefined, services: [serviceStatus('api', 'Stalled', { code: 'E_PUSH_REFUSED', errorClass: 'conflict' })] });
    expect(series(await metrics.metricsText(), 'tend_service_stalled').map((sample) => sample.labels.code)).toEqual(['E_PUSH_REFUSED']);
    metrics.statusPublished({ stalled: undefined, services: [serviceStatus('api', 'Synced')] });
    expect(series(await metrics.metricsText(), 'tend_service_stalled')).toEqual([]);
  });

  it('shows a repo-wide stall with its since, and nothing once it clears', async () => {
    const metrics = metricsFor();
    metrics.statusPublished({ stalled: { code: 'E_INVALID_COMMIT', errorClass: 'invalid', since: 120_000 }, services: [] });
    expect(series(await metrics.metricsText(), 'tend_repo_stalled_since_timestamp_seconds')).toEqual([expect.objectContaining({ labels: { code: 'E_INVALID_COMMIT', error_class: 'invalid' }, value: 120 })]);
    metrics.statusPublished({ stalled: undefined, services: [] });
    expect(series(await metrics.metricsText(), 'tend_repo_stalled_since_timestamp_seconds')).toEqual([]);
  });

  it('drops the state series of a service the status no longer lists (an operator cleared it)', async () => {
    const metrics = metricsFor();
    metrics.statusPublished({ stalled: undefined, services: [serviceStatus('api', 'Stalled', { code: 'E_ROLLBACK_FAILED', errorClass: 'conflict' }), serviceStatus('web', 'Synced')] });
    metrics.statusPublished({ stalled: undefined, services: [serviceStatus('web', 'Synced')] });
    const text = await metrics.metricsText();
    expect(new Set(series(text, 'tend_service_state').map((sample) => sample.labels.service))).toEqual(new Set(['web']));
    expect(series(text, 'tend_service_stalled')).toEqual([]);
    expect(series(text, 'tend_service_state_since_timestamp_seconds').map((sample) => sample.labels.service)).toEqual(['web']);
  });
});

describe('rollouts and their attempts', () => {
  it('counts a rollout once however many attempts it took, and every attempt apart', async () => {
    const metrics = metricsFor();
    metrics.rolloutAttemptFinished('api', 'failed-transient');
    metrics.rolloutAttemptFinished('api', 'failed-transient');
    metrics.rolloutAttemptFinished('api', 'succeeded');
    metrics.rolloutFinished('api', 'succeeded');
    const text = await metrics.metricsText();
    const counts = (name: string) => Object.fromEntries(series(text, name, { service: 'api' }).filter((sample) => sample.value > 0).map((sample) => [sample.labels.result, sample.value]));
    expect(counts('tend_rollouts_total')).toEqual({ succeeded: 1 });
    expect(counts('tend_rollout_attempts_total')).toEqual({ 'failed-transient': 2, succeeded: 1 });
  });

  it('says in the help text which counts rollouts and which counts attempts', async () => {
    const text = await metricsFor().metricsText();
    expect(text).toMatch(/^# HELP tend_rollouts_total .*once per rollout.*not per attempt/m);
    expect(text).toMatch(/^# HELP tend_rollout_attempts_total .*every attempt/m);
  });

  it('guards attempt labels like rollout labels, and drops them with their service', async () => {
    const metrics = metricsFor();
    metrics.rolloutAttemptFinished('billing', 'exploded' as 'succeeded');
    metrics.specLoaded({ services: ['web'], hosts: [] });
    const text = await metrics.metricsText();
    expect(series(text, 'tend_rollout_attempts_total', { service: '_other', result: '_other' })).toEqual([expect.objectContaining({ value: 1 })]);
    expect(series(text, 'tend_rollout_attempts_total', { service: 'api' })).toEqual([]);
    expect(series(text, 'tend_rollout_attempts_total', { service: 'web' })).toHaveLength(8);
  });
});

describe('git host publications', () => {
  it('starts the failure and drop counters at 0 for the configured provider, so the first loss is an increase', async () => {
    const metrics = metricsFor();
    metrics.githostConfigured('gitlab');
    const text = await metrics.metricsText();
    expect(series(text, 'tend_githost_publish_failures_total').map((one) => [one.labels, one.value])).toEqual([
      [{ provider: 'gitlab', kind: 'status' }, 0],
      [{ provider: 'gitlab', kind: 'comment' }, 0],
    ]);
    expect(series(text, 'tend_githost_publish_dropped_total')).toHaveLength(2);
  });

  it('counts a publication given up on apart from one dropped, by provider and kind; an unknown provider is _other', async () => {
    const metrics = metricsFor();
    metrics.githostConfigured('github');
    metrics.githostPublishLost('github', 'status', 'gave-up');
    metrics.githostPublishLost('github', 'status', 'gave-up');
    metrics.githostPublishLost('github', 'comment', 'dropped');
    metrics.githostPublishLost('https://token@example.com', 'status', 'gave-up');
    const text = await metrics.metricsText();
    expect(series(text, 'tend_githost_publish_failures_total', { provider: 'github', kind: 'status' })).toEqual([expect.objectContaining({ value: 2 })]);
    expect(series(text, 'tend_githost_publish_dropped_total', { provider: 'github', kind: 'comment' })).toEqual([expect.objectContaining({ value: 1 })]);
    expect(series(text, 'tend_githost_publish_failures_total', { provider: '_other', kind: 'status' })).toEqual([expect.objectContaining({ value: 1 })]);
  });
});

describe('build info', () => {
  it('exports tend_build_info 1 with the version of package.json and the Node version', async () => {
    const { version } = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    const text = await metricsFor().metricsText();
    expect(series(text, 'tend_build_info')).toEqual([{ name: 'tend_build_info', labels: { version, node_version: process.version }, value: 1 }]);
  });
});

describe('series lifecycle', () => {
  it('starts the rollout and rollback counters at 0 for every service, so the first rollback is an increase', async () => {
    const text = await metricsFor(['api']).metricsText();
    expect(series(text, 'tend_rollbacks_total', { service: 'api' }).map((sample) => [sample.labels.result, sample.value])).toEqual([
      ['pushed', 0],
      ['conflict', 0],
      ['failed', 0],
      ['halted', 0],
    ]);
    expect(series(text, 'tend_rollouts_total', { service: 'api' })).toHaveLength(8);
  });

  it('drops every series of a service and a host the new spec no longer has', async () => {
    const metrics = metricsFor();
    metrics.statusPublished({ stalled: undefined, services: [serviceStatus('web', 'Stalled', { code: 'E_X', errorClass: 'conflict' })] });
    metrics.rollbackFinished('web', 'failed');
    metrics.probeFinished('web', 5);
    metrics.driftObserved('web', 'web-1', true);
    metrics.driftObserved('api', 'web-2', true);
    metrics.servicePaused('web', 9_000);
    metrics.serviceHealthyAt('web', 0, 1_000);
    metrics.hostObserved('web-2', false);
    metrics.specLoaded({ services: ['api'], hosts: ['web-1'] });
    const text = await metrics.metricsText();
    expect(labelValues(text, 'service')).toEqual(new Set(['api']));
    expect(labelValues(text, 'host')).toEqual(new Set());
  });

  it('keeps one applied commit: the newest', async () => {
    const metrics = metricsFor();
    metrics.commitApplied('a'.repeat(40), 1_000);
    metrics.commitApplied('b'.repeat(40), 2_000);
    const text = await metrics.metricsText();
    expect(series(text, 'tend_applied_commit_info')).toEqual([expect.objectContaining({ labels: { commit: 'b'.repeat(40) }, value: 1 })]);
    expect(series(text, 'tend_applied_commit_timestamp_seconds')).toEqual([expect.objectContaining({ value: 2 })]);
  });

  it('starts the last-fetch gauge at tend\'s start and moves it with each successful fetch', async () => {
    const metrics = metricsFor();
    expect(series(await metrics.metricsText(), 'tend_source_last_fetch_success_timestamp_seconds')).toEqual([expect.objectContaining({ value: 1_000 })]);
    metrics.fetchSucceeded(1_500_000);
    expect(series(await metrics.metricsText(), 'tend_source_last_fetch_success_timestamp_seconds')).toEqual([expect.objectContaining({ value: 1_500 })]);
  });

  it.each([
    ['conflict', 1],
    ['failed', 1],
    ['halted', undefined],
    ['pushed', undefined],
  ] as const)('raises tend_rollback_failed for a %s rollback: %s', async (result, expected) => {
    const metrics = metricsFor();
    metrics.rollbackFinished('api', result);
    expect(series(await metrics.metricsText(), 'tend_rollback_failed', { service: 'api' })[0]?.value).toBe(expected);
  });

  it('clears tend_rollback_failed once the service is healthy again, not while it stays stalled', async () => {
    const metrics = metricsFor();
    metrics.rollbackFinished('api', 'failed');
    metrics.statusPublished({ stalled: undefined, services: [serviceStatus('api', 'Stalled', { code: 'E_ROLLBACK_FAILED', errorClass: 'conflict' })] });
    expect(series(await metrics.metricsText(), 'tend_rollback_failed')).toHaveLength(1);
    metrics.statusPublished({ stalled: undefined, services: [serviceStatus('api', 'Synced')] });
    expect(series(await metrics.metricsText(), 'tend_rollback_failed')).toEqual([]);
  });

  it('shows a pause expiry only while a pause with an end is on', async () => {
    const metrics = metricsFor();
    metrics.servicePaused('api', 7_200_000);
    metrics.servicePaused('web', undefined);
    let text = await metrics.metricsText();
    expect(series(text, 'tend_pause_expiry_timestamp_seconds')).toEqual([expect.objectContaining({ labels: { service: 'api' }, value: 7_200 })]);
    expect(series(text, 'tend_service_paused').map((sample) => sample.value)).toEqual([1, 1]);
    metrics.servicePauseLifted('api');
    text = await metrics.metricsText();
    expect(series(text, 'tend_pause_expiry_timestamp_seconds')).toEqual([]);
    expect(series(text, 'tend_service_paused', { service: 'api' })).toEqual([expect.objectContaining({ value: 0 })]);
  });

  it('records durations in seconds and a clock that stepped back as 0', async () => {
    const metrics = metricsFor();
    metrics.serviceHealthyAt('api', 10_000, 310_000);
    metrics.serviceHealthyAt('api', 10_000, 5_000);
    metrics.passFinished('idle', 1_500);
    const text = await metrics.metricsText();
    expect(series(text, 'tend_merge_to_healthy_seconds_sum', { service: 'api' })).toEqual([expect.objectContaining({ value: 300 })]);
    expect(series(text, 'tend_merge_to_healthy_seconds_bucket', { service: 'api', le: '30' })).toEqual([expect.objectContaining({ value: 1 })]);
    expect(series(text, 'tend_reconcile_duration_seconds_sum')).toEqual([expect.objectContaining({ value: 1.5 })]);
  });

  it('keeps two instances apart: each has its own registry', async () => {
    const one = metricsFor();
    const two = metricsFor();
    one.fetchFailed('E_FETCH');
    expect(series(await two.metricsText(), 'tend_source_fetch_failures_total')).toEqual([]);
    expect(one.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });
});
