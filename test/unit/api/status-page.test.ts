import { describe, expect, it } from 'vitest';

import { renderStatusPage } from '../../../src/api/status-page.js';
import type { ErrorCode } from '../../../src/errors/index.js';
import type { DaemonStatus, ServiceStatus } from '../../../src/status/index.js';
import {
  BAD,
  FAILED_ROLLOUT_HISTORY,
  FAILED_ROLLOUT_HOSTS,
  GOOD,
  NOW,
  REVERT,
  baseStatus,
  failedRolloutStatus,
  invalidCommitStatus,
  synced,
} from './status-fixtures.js';

function serviceOrder(page: string): string[] {
  return [...page.matchAll(/<li class="service[^"]*"[^>]* data-service="([^"]*)"/g)].map((match) => match[1] ?? '');
}

function verdict(page: string): string | undefined {
  return /data-verdict="([a-z]+)"/.exec(page)?.[1];
}

/** Visible text without tags, whitespace collapsed, so assertions do not depend on markup layout. */
function textOf(page: string): string {
  return page
    .replace(/<style>[\s\S]*?<\/style>/, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

describe('renderStatusPage', () => {
  it('lists services worst first: Stalled, Degraded, Progressing, Waiting, RolledBack, Synced, then by name', () => {
    const states: ServiceStatus['state'][] = ['Synced', 'RolledBack', 'Waiting', 'Progressing', 'Degraded', 'Stalled'];
    const services = states.flatMap((state) => [
      { ...synced(`b-${state}`), state },
      { ...synced(`a-${state}`), state },
    ]);
    const page = renderStatusPage(baseStatus(services), NOW);
    expect(serviceOrder(page)).toEqual([...states].reverse().flatMap((state) => [`a-${state}`, `b-${state}`]));
  });

  it('answers "is everything converged?" in the banner', () => {
    const cases: readonly { readonly name: string; readonly status: DaemonStatus; readonly tone: string; readonly headline: string }[] = [
      { name: 'all synced', status: baseStatus([synced('api'), synced('queue')]), tone: 'good', headline: 'All 2 services are converged' },
      { name: 'failed rollout', status: failedRolloutStatus(), tone: 'bad', headline: '2 services need attention' },
      { name: 'repo-wide stall', status: invalidCommitStatus(), tone: 'bad', headline: 'Repository stalled: E_INVALID_COMMIT' },
      {
        name: 'fetch failing while converged',
        status: baseStatus([synced('api')], {
          source: { ...baseStatus([]).source, error: { code: 'E_GIT_UNREACHABLE', errorClass: 'transient', message: 'git.example.com refused the connection', hint: undefined } },
        }),
        tone: 'busy',
        headline: 'Converged, but the source cannot be fetched',
      },
      {
        name: 'rolling out',
        status: baseStatus([{ ...synced('api', BAD), state: 'Progressing', message: 'rolling out' }, synced('queue')]),
        tone: 'busy',
        headline: `Rolling out ${BAD.slice(0, 12)}`,
      },
      { name: 'no service yet', status: baseStatus([]), tone: 'neutral', headline: 'No service reported yet' },
    ];
    for (const one of cases) {
      const page = renderStatusPage(one.status, NOW);
      expect({ name: one.name, tone: verdict(page), headline: /<h1>([^<]*)<\/h1>/.exec(page)?.[1] }).toEqual({ name: one.name, tone: one.tone, headline: one.headline });
    }
  });

  it('shows for each failing service its reason, since when, what to do, the commits and the failed hosts', () => {
    const text = textOf(renderStatusPage(failedRolloutStatus(), NOW));
    expect(text).toContain('api Degraded E_CANARY_FAILED');
    expect(text).toContain('What to do: Nothing to do now: tend is rolling the hosts back');
    expect(text).toContain('Since 4m ago (2024-11-21 03:08:00 UTC)');
    expect(text).toContain('Error class change');
    expect(text).toContain('Failed hosts web-1');
    expect(text).toContain(`Desired ${REVERT.slice(0, 12)} Last healthy ${GOOD.slice(0, 12)} Revert ${REVERT.slice(0, 12)}`);
    expect(text).toContain('gateway Stalled E_REVERT_CONFLICT');
    expect(text).toContain('Failed hosts edge-1 Desired');
    expect(text).toContain('rollback rollout r-20241121-0308-api of deadbeef0123 , started 3m ago');
  });

  it('shows the next attempt of a transient failure as a time to come', () => {
    const degraded: ServiceStatus = { ...synced('api'), state: 'Degraded', code: 'E_HOST_UNREACHABLE', errorClass: 'transient', message: 'web-2 unreachable', nextAttemptAt: NOW + 90_000 };
    expect(textOf(renderStatusPage(baseStatus([degraded]), NOW))).toContain('Next attempt in 90s (2024-11-21 03:13:30 UTC)');
  });

  it('shows a repo-wide stall with every issue at file:line:col', () => {
    const text = textOf(renderStatusPage(invalidCommitStatus(), NOW));
    expect(text).toContain('services/api/spec.yml:12:5 deploy.probe.port must be an integer E_SCHEMA');
    expect(text).toContain('services/gateway/spec.yml:3:1 after: gateway -> api -> gateway is a cycle E_AFTER_CYCLE');
    expect(text).toContain('What to do: Fix the files named below');
  });

  it('with ha, shows who leads and why the answering instance does not act; without ha, no leadership card', () => {
    const status = baseStatus([synced('api')], {
      leadership: {
        role: 'unavailable',
        self: 'tend-b',
        leader: undefined,
        leaderSince: undefined,
        leaseRenewedAt: NOW - 40_000,
        leaseTtlMs: 15_000,
        notActing: { reason: 'etcd-unavailable', detail: 'etcd is unavailable (E_ETCD_UNAVAILABLE): no answer' },
        etcdError: { code: 'E_ETCD_UNAVAILABLE', message: 'no answer' },
        publishedAt: NOW - 60_000,
      },
    });
    const text = textOf(renderStatusPage(status, NOW));
    expect(text).toContain('Leadership Leader none This instance tend-b: unavailable lease renewed');
    expect(text).toContain('Not acting etcd is unavailable (E_ETCD_UNAVAILABLE): no answer');
    expect(text).toContain('Shown as the leader published it');
    expect(textOf(renderStatusPage(baseStatus([synced('api')]), NOW))).not.toContain('Leadership');
  });

  it('shows the fetch error and the age of the last good fetch', () => {
    const status = baseStatus([synced('api')], {
      source: {
        ...baseStatus([]).source,
        lastFetchOkAt: NOW - 7 * 60_000,
        error: { code: 'E_GIT_UNREACHABLE', errorClass: 'transient', message: 'git.example.com refused the connection', hint: 'Check the git host.' },
      },
    });
    const text = textOf(renderStatusPage(status, NOW));
    expect(text).toContain('Last fetch 7m ago (2024-11-21 03:05:00 UTC)');
    expect(text).toContain('Fetch failing E_GIT_UNREACHABLE (transient) git.example.com refused the connection What to do: Check the git host.');
  });

  it('is a self-contained page that reloads itself every 10 seconds and fits a phone', () => {
    const page = renderStatusPage(failedRolloutStatus(), NOW);
    expect(page).toContain('<meta http-equiv="refresh" content="10">');
    expect(page).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(page).not.toMatch(/<script/i);
    expect(page).not.toMatch(/\b(src|href)="(?!data:|\/status")/);
  });

  it('leaves the host and rollout tables out while the status has none', () => {
    const without = renderStatusPage({ ...failedRolloutStatus(), hosts: [], recentRollouts: [] }, NOW);
    expect(without).not.toContain('id="hosts-title"');
    expect(without).not.toContain('id="rollouts-title"');
  });

  it('shows a row per host from the status, worst service first: state, commit, version, unit, last probe and since when', () => {
    const page = renderStatusPage(failedRolloutStatus(), NOW);
    const hostRows = [...page.matchAll(/<tr class="row-([a-z]+)" data-host="([^"]*)" data-service="([^"]*)">/g)].map((match) => `${match[3]}/${match[2]} ${match[1]}`);
    expect(hostRows).toEqual(['gateway/edge-1 bad', 'gateway/edge-2 good', 'api/web-1 bad', 'api/web-2 busy', 'queue/mq-1 good']);
    expect(FAILED_ROLLOUT_HOSTS).toHaveLength(hostRows.length);
    const text = textOf(page);
    expect(text).toContain('api web-1 failed c0ffee012345 1.5.0-1 failed/failed failed 503 5m ago');
    expect(text).toContain('gateway edge-1 failed feed5eed0123 1.5.0-1 - failed 5m ago');
    expect(page).toContain('title="2001 ms, 17m ago (2024-11-21 02:55:00 UTC): connect ECONNREFUSED 127.0.0.1:8443"');
    expect(text).toContain('queue mq-1 synced a1b2c3d4e5f6 1.4.2-1 active/running - 4h 0m ago');
  });

  it('shows the recent rollouts newest first with subject, author, failed hosts and the revert commit', () => {
    const page = renderStatusPage(failedRolloutStatus(), NOW);
    const rollouts = [...page.matchAll(/<tr data-rollout="([^"]*)">/g)].map((match) => match[1]);
    expect(rollouts).toEqual(FAILED_ROLLOUT_HISTORY.map((one) => one.rolloutId));
    expect(page).toContain('title="E_UNIT_FAILED">failed-change');
    expect(textOf(page)).toContain('6m ago api failed-change c0ffee012345 api: raise the connection pool to 400 Bob Builder 2m web-1 deadbeef0123');
    expect(page).toContain('title="Bob Builder &lt;bob@example.com&gt;"');
  });

  it('escapes every value that comes from the repo, the hosts or the daemon', () => {
    let counter = 0;
    const evil = (): string => `<x-evil-${++counter} a="'&">`;
    const service: ServiceStatus = {
      service: evil(),
      state: 'Degraded',
      code: evil(),
      errorClass: 'change',
      message: evil(),
      hint: evil(),
      since: NOW,
      desiredCommit: evil(),
      stableCommit: evil(),
      revertCommit: evil(),
      failedHosts: [evil(), evil()],
      window: evil(),
    };
    const status: DaemonStatus = {
      ...baseStatus([service, { ...service, state: 'Synced', service: evil() }]),
      source: { description: evil(), branch: evil(), head: evil(), lastFetchAt: NOW, lastFetchOkAt: NOW, error: { code: evil(), errorClass: 'transient', message: evil(), hint: evil() } },
      lastApplied: evil(),
      lastAttempted: evil(),
      stalled: { code: evil(), errorClass: 'invalid', message: evil(), hint: evil(), commit: evil(), since: NOW, issues: [{ file: evil(), line: 1, col: 2, code: evil() as ErrorCode, message: evil() }] },
      inFlight: { rolloutId: evil(), commit: evil(), phase: evil(), startedAt: NOW },
    };
    const withTables: DaemonStatus = {
      ...status,
      hosts: [{ host: evil(), service: evil(), commit: evil(), version: evil(), state: 'failed', unit: evil(), lastProbe: { ok: false, at: NOW, latencyMs: 1, status: undefined, error: evil() }, since: NOW, observedAt: NOW }],
      recentRollouts: [
        { rolloutId: evil(), commit: evil(), service: evil(), subject: evil(), author: evil(), result: 'failed-change', code: evil(), startedAt: NOW, endedAt: NOW, failedHosts: [evil()], reverts: undefined, revertCommit: evil() },
      ],
    };
    const page = renderStatusPage(withTables, NOW);
    expect(counter).toBeGreaterThan(30);
    expect(page).not.toContain('<x-evil');
    expect(page).not.toMatch(/a="'&"/);
    for (let index = 1; index <= counter; index += 1) {
      // Commits are shortened to 12 characters, which cuts the marker after its number for the short ones.
      expect(page).toContain(`&lt;x-evil-${index}`);
    }
  });

  it('renders an injected <script> in a message as text', () => {
    const status = baseStatus([{ ...synced('api'), state: 'Degraded', code: 'E_CANARY_FAILED', message: '<script>alert("pwned")</script>' }]);
    const page = renderStatusPage(status, NOW);
    expect(page).toContain('&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;');
    expect(page).not.toMatch(/<script/i);
  });
});
