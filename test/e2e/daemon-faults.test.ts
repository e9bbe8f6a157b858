import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { DaemonStatus, ServiceStatus } from '../../src/status/index.js';
import { freePort } from '../support/free-port.js';
import { buildTend } from '../support/tend-cli.js';
import { series } from '../unit/observability/exposition.js';
import { ensurePromtool, promtool } from '../unit/observability/promtool.js';
import {
  apiScriptAt,
  daemonConfigArgs,
  DaemonUnderTest,
  eventsNamed,
  exampleOnGitServer,
  fileAt,
  RESYNC_NEVER,
  versionOn,
  wipeTendState,
} from './daemon-support.js';
import { fillFilesystem, requireSudoPassword, takeLinkDown, type Fault } from './harness/faults.js';
import type { GitServer } from './harness/git-server.js';
import { execInHost, sshBanner, type TestHost } from './harness/hosts.js';
import { useHosts } from './harness/use-hosts.js';

/**
 * Issue 12, faults on real hosts: a transient one (the canary's link down mid-rollout) costs at most
 * `retry.max_attempts` attempts, then api stays Stalled E_RETRIES_EXHAUSTED with a steady `since` (and the
 * series tend exported make promtool fire TendServiceStalled); a refused sudo and a full disk are
 * conflicts, each with its own code. web-1 = host-1 (api's canary), web-2 = host-2, batch-1 = host-3.
 */

const REPO = 'deploy';
const MAX_ATTEMPTS = 3;
/**
 * The issue asks for 3 minutes; 150 s proves the same. With 3 attempts (SSH connect timeout 15 s, a hung
 * session ~30 s, backoff ≤ 1 s) the budget is spent in about 70 s, which leaves more than the alert's 60 s
 * of stall and ~40 polls (every 2 s) in which a reset budget or a moving since would show.
 */
const LINK_DOWN_MS = 150_000;
const SCRAPE_EVERY_MS = 10_000;
/** How long a conflict fault is watched: time for one attempt and a whole budget of retries, were it retried. */
const CONFLICT_WATCH_MS = 40_000;
const INSTANCE = 'tend-e2e:9464';
const RULES = 'deploy/alerts.yml';

let hosts: TestHost[];
let gitServer: GitServer;
let secretsDir: string;
let apiScript: string;
let tend: DaemonUnderTest;
const faults: Fault[] = [];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function host(name: 'web-1' | 'web-2' | 'batch-1'): TestHost {
  const found = hosts[{ 'web-1': 0, 'web-2': 1, 'batch-1': 2 }[name]];
  if (found === undefined) throw new Error(`no test host for ${name}`);
  return found;
}

async function apply(fault: Promise<Fault>): Promise<Fault> {
  const applied = await fault;
  faults.push(applied);
  return applied;
}

function service(status: DaemonStatus | undefined, name: string): ServiceStatus | undefined {
  return status?.services.find((one) => one.service === name);
}

function rolloutsOf(commit: string): number {
  return eventsNamed(tend.events(), 'rollout started', { commit }).length;
}

function converged(status: DaemonStatus): boolean {
  return status.lastApplied !== undefined && status.lastApplied === status.source.head && status.inFlight === undefined;
}

beforeAll(async () => {
  [hosts] = await Promise.all([useHosts(3), buildTend()]);
  await Promise.all(hosts.map((target) => wipeTendState(target)));
  ({ gitServer, secretsDir, apiScript } = await exampleOnGitServer(REPO));
  const stateDir = await mkdtemp(join(tmpdir(), 'tend-e2e-state-'));
  const port = await freePort();
  const args = await daemonConfigArgs(
    {
      repoUrl: gitServer.repoUrl(REPO),
      sshKey: host('web-1').privateKeyPath,
      secretsDir,
      stateDir,
      pollInterval: '2s',
      resync: RESYNC_NEVER,
      retry: { maxAttempts: MAX_ATTEMPTS, baseDelay: '200ms', maxDelay: '1s' },
    },
    port,
  );
  tend = await DaemonUnderTest.startWith(args, port, stateDir);
  await tend.waitFor('the first commit applied', converged, 240_000);
});

afterAll(async () => {
  // A failed assertion must not leave a broken host to the next file.
  for (const fault of faults) await fault.restore();
  const stopped = await tend?.stop();
  expect(stopped?.code, stopped?.stderr.slice(-2000)).toBe(0);
  await gitServer?.close();
  await Promise.all((hosts ?? []).map((target) => wipeTendState(target)));
});

interface Scrape {
  readonly at: number;
  readonly metrics: string;
  readonly status: DaemonStatus | undefined;
}

describe('a transient fault on the canary', () => {
  it('link down mid-rollout: attempts stop at the budget, api stays Stalled with a steady since, TendServiceStalled fires on the exported series; lifting it and tend retry converge', async () => {
    const bump = await gitServer.landCommit(REPO, { message: 'api 2.1.0', files: { 'services/api/api': apiScriptAt(apiScript, '2.1.0') } });
    expect(await tend.webhook()).toBe(202);
    await tend.process.waitForStdout(new RegExp(`^(?=.*"msg":"rollout started")(?=.*"commit":"${bump}")`));
    const link = await apply(takeLinkDown(host('web-1')));
    expect(await sshBanner(host('web-1').address, host('web-1').port, 1000), 'web-1 is cut off').toBe(false);

    const scrapes: Scrape[] = [];
    const until = Date.now() + LINK_DOWN_MS;
    while (Date.now() < until) {
      const at = Date.now();
      const metrics = await (await fetch(`${tend.url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
      scrapes.push({ at, metrics, status: await tend.status().catch(() => undefined) });
      await sleep(Math.max(0, at + SCRAPE_EVERY_MS - Date.now()));
    }
    const attempts = rolloutsOf(bump);
    await link.restore();
    expect(await sshBanner(host('web-1').address, host('web-1').port, 1000), 'web-1 answers again').toBe(true);

    const timeline = scrapes.map((one) => {
      const api = service(one.status, 'api');
      return `${((one.at - scrapes[0]!.at) / 1000).toFixed(0)}s ${api?.state} ${api?.code ?? '-'} since ${api?.since}`;
    });
    console.log(`link down ${LINK_DOWN_MS / 1000} s: ${attempts} rollout starts of ${bump.slice(0, 12)} (budget ${MAX_ATTEMPTS}); api every ${SCRAPE_EVERY_MS / 1000} s:\n${timeline.join('\n')}`);
    expect.soft(attempts, 'rollout starts while the link was down').toBeLessThanOrEqual(MAX_ATTEMPTS);
    const firstStalled = scrapes.findIndex((one) => service(one.status, 'api')?.state === 'Stalled');
    expect(firstStalled, 'api became Stalled').toBeGreaterThanOrEqual(0);
    const stalled = scrapes.slice(firstStalled).map((one) => service(one.status, 'api'));
    expect.soft(stalled.map((one) => `${one?.state} ${one?.code} ${one?.errorClass}`), 'api from its first Stalled scrape on').toEqual(stalled.map(() => 'Stalled E_RETRIES_EXHAUSTED transient'));
    expect.soft(new Set(stalled.map((one) => one?.since)).size, 'distinct values of since while Stalled').toBe(1);

    const rulesTest = await stalledAlertTest(scrapes);
    const result = await promtool(await ensurePromtool(), ['test', 'rules', rulesTest]);
    console.log(`promtool test rules ${rulesTest}:\n${result.output}`);
    expect.soft(result.output).toContain('SUCCESS');
    expect.soft(result.code, 'promtool: TendServiceStalled fires on the series tend exported').toBe(0);

    const retry = await tend.retry('api');
    expect(retry.code, retry.stdout + retry.stderr).toBe(0);
    await tend.waitFor('api 2.1.0 applied after tend retry', (status) => status.lastApplied === bump && converged(status) && service(status, 'api')?.state === 'Synced', 120_000);
    expect(await versionOn(host('web-1'), 8080)).toBe('2.1.0');
    expect(await versionOn(host('web-2'), 8080)).toBe('2.1.0');
  }, 420_000);
});

describe('faults that need a person', () => {
  it('sudo needing a password on web-1 and a full /var/lib/tend on batch-1: E_SUDO_REFUSED and E_HOST_DISK_FULL, class conflict, no more attempts than the budget', async () => {
    const sudo = await apply(requireSudoPassword(host('web-1')));
    const refused = await execInHost(host('web-1'), ['runuser', '-u', 'deploy', '--', 'sudo', '-n', 'true'], { allowFailure: true });
    expect(refused.stderr, 'sudo -n refuses deploy on web-1').toMatch(/a password is required/);
    const disk = await apply(fillFilesystem(host('batch-1')));
    expect((await execInHost(host('batch-1'), ['df', '--output=pcent', '/var/lib/tend'])).stdout, 'batch-1 /var/lib/tend is full').toMatch(/100%/);

    const reportsSpec = await fileAt(gitServer, REPO, 'main', 'services/reports/spec.yml');
    const reports = `${await fileAt(gitServer, REPO, 'main', 'services/reports/reports')}# release 2.2.0\n`;
    const commit = await gitServer.landCommit(REPO, {
      message: 'api 2.2.0, reports 2.2.0',
      files: {
        'services/api/api': apiScriptAt(apiScript, '2.2.0'),
        'services/reports/reports': reports,
        'services/reports/spec.yml': reportsSpec.replace(/sha256: [0-9a-f]{64}/, `sha256: ${createHash('sha256').update(reports).digest('hex')}`),
      },
    });
    expect(await tend.webhook()).toBe(202);
    await sleep(CONFLICT_WATCH_MS);
    const { run, json } = await tend.cliStatus();
    const attempts = rolloutsOf(commit);
    console.log(`after ${CONFLICT_WATCH_MS / 1000} s: ${attempts} rollout starts (budget ${MAX_ATTEMPTS}); tend status exit ${run.code}; api ${JSON.stringify(service(json, 'api'))}; reports ${JSON.stringify(service(json, 'reports'))}`);
    expect.soft(attempts, 'rollout starts with the faults on').toBeLessThanOrEqual(MAX_ATTEMPTS);
    expect.soft(service(json, 'api'), 'api in tend status --json').toMatchObject({ state: 'Stalled', code: 'E_SUDO_REFUSED', errorClass: 'conflict' });
    expect.soft(service(json, 'reports'), 'reports in tend status --json').toMatchObject({ state: 'Stalled', code: 'E_HOST_DISK_FULL', errorClass: 'conflict' });
    expect.soft(service(json, 'api')?.hint, 'the hint names sudoers').toMatch(/sudoers/);
    expect.soft(service(json, 'reports')?.message, "the host's own words").toMatch(/No space left on device/i);

    await sudo.restore();
    await disk.restore();
    expect((await execInHost(host('web-1'), ['runuser', '-u', 'deploy', '--', 'sudo', '-n', 'true'], { allowFailure: true })).code, 'sudo works again').toBe(0);
    const retry = await tend.retry();
    expect(retry.code, retry.stdout + retry.stderr).toBe(0);
    await tend.waitFor('the commit applied once the faults are lifted', (status) => status.lastApplied === commit && converged(status), 120_000);
    expect(await versionOn(host('web-1'), 8080)).toBe('2.2.0');
  }, 300_000);
});

/**
 * A `promtool test rules` file from the scrapes: tend's api series, one sample per scrape, with the job and
 * instance labels Prometheus adds. promtool's clock starts at 0, so every scrape is put at its offset from
 * the first one and `since` is shifted by the same amount; nothing else is changed. (Checked by hand against
 * promtool: the same file with a since that stays put and a stalled series present to the end passes.) The alert is expected
 * at the last scrape, with its annotations rendered from deploy/alerts.yml as Prometheus renders them.
 */
async function stalledAlertTest(scrapes: readonly Scrape[]): Promise<string> {
  const t0 = scrapes[0]!.at / 1000;
  const step = SCRAPE_EVERY_MS / 1000;
  const extra = { job: 'tend', instance: INSTANCE };
  const labelsOf = (labels: Record<string, string>) => `{${Object.entries({ ...labels, ...extra }).map(([key, value]) => `${key}="${value}"`).join(', ')}}`;
  const input: { series: string; values: string }[] = [];
  const seriesOf = (name: string, value: (raw: number) => number) => {
    const keys = new Map<string, Record<string, string>>();
    for (const scrape of scrapes) for (const sample of series(scrape.metrics, name, { service: 'api' })) keys.set(JSON.stringify(sample.labels), sample.labels);
    for (const [key, labels] of keys) {
      // A series gone from a scrape is `stale`, as Prometheus marks it; `_` (no sample) would let promtool
      // carry the last value on for 5 minutes, and a stall that ended would still look like one.
      let seen = false;
      const values = scrapes.map((scrape) => {
        const found = series(scrape.metrics, name).find((sample) => JSON.stringify(sample.labels) === key);
        if (found === undefined) return seen ? 'stale' : '_';
        seen = true;
        return String(Number(value(found.value).toFixed(3)));
      });
      input.push({ series: `${name}${labelsOf(labels)}`, values: values.join(' ') });
    }
  };
  seriesOf('tend_service_state_since_timestamp_seconds', (since) => since - t0);
  seriesOf('tend_service_stalled', (value) => value);

  const evalSeconds = (scrapes.length - 1) * step;
  const lastSince = series(scrapes[scrapes.length - 1]!.metrics, 'tend_service_state_since_timestamp_seconds', { service: 'api' })[0]?.value ?? Number.NaN;
  const value = evalSeconds - Number((lastSince - t0).toFixed(3));
  const labels = { service: 'api', code: 'E_RETRIES_EXHAUSTED', error_class: 'transient', ...extra };
  const rules = parse(await readFile(RULES, 'utf8')) as { groups: { rules: { alert: string; labels: Record<string, string>; annotations: Record<string, string> }[] }[] };
  const rule = rules.groups.flatMap((group) => group.rules).find((one) => one.alert === 'TendServiceStalled');
  if (rule === undefined) throw new Error(`no TendServiceStalled in ${RULES}`);
  const render = (template: string) =>
    template.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, name: string) => (labels as Record<string, string>)[name] ?? '').replace('{{ $value | humanizeDuration }}', humanizeDuration(value));
  const test = {
    rule_files: [join(process.cwd(), RULES)],
    evaluation_interval: `${step}s`,
    tests: [
      {
        name: 'TendServiceStalled on the series tend exported while web-1 was cut off',
        interval: `${step}s`,
        input_series: input,
        alert_rule_test: [
          {
            eval_time: `${evalSeconds}s`,
            alertname: 'TendServiceStalled',
            exp_alerts: [{ exp_labels: { ...rule.labels, ...labels }, exp_annotations: Object.fromEntries(Object.entries(rule.annotations).map(([key, text]) => [key, render(text)])) }],
          },
        ],
      },
    ],
  };
  const file = join(await mkdtemp(join(tmpdir(), 'tend-e2e-promtool-')), 'stalled.test.yml');
  await writeFile(file, JSON.stringify(test, null, 2));
  return file;
}

/** Prometheus's humanizeDuration for a value of a minute or more: whole units, seconds truncated. */
function humanizeDuration(seconds: number): string {
  const whole = Math.trunc(seconds);
  const [days, hours, minutes, rest] = [Math.trunc(whole / 86_400), Math.trunc(whole / 3600) % 24, Math.trunc(whole / 60) % 60, whole % 60];
  if (days !== 0) return `${days}d ${hours}h ${minutes}m ${rest}s`;
  if (hours !== 0) return `${hours}h ${minutes}m ${rest}s`;
  if (minutes !== 0) return `${minutes}m ${rest}s`;
  return `${Number(seconds.toPrecision(4))}s`;
}
