import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { TendMetrics } from '../../../src/observability/metrics.js';
import { familiesOf, samplesOf } from './exposition.js';
import { ensurePromtool, promtool } from './promtool.js';

/**
 * The alerting rules checked by the real promtool (Debian's, unpacked on first use), and tied to what
 * TendMetrics exports, so a renamed metric or label value breaks a test instead of silently never alerting.
 */
const RULES = 'deploy/alerts.yml';
const RULE_TESTS = 'deploy/alerts.test.yml';

interface Rule {
  readonly alert: string;
  readonly expr: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

let binary: string;
let scratch: string;

beforeAll(async () => {
  binary = await ensurePromtool();
  scratch = await mkdtemp(join(tmpdir(), 'tend-alerts-'));
}, 600_000);

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function rules(): Promise<Rule[]> {
  const document = parse(await readFile(RULES, 'utf8')) as { groups: { rules: Rule[] }[] };
  return document.groups.flatMap((group) => group.rules);
}

/** A daemon's metrics after every TendMetrics method ran once, with a stalled repo and a stalled service. */
async function exercisedMetrics(): Promise<string> {
  const metrics = new TendMetrics({ startedAt: 1_700_000_000_000 });
  metrics.specLoaded({ services: ['api'], hosts: ['web-1'] });
  metrics.passFinished('idle', 120);
  metrics.fetchSucceeded(1_700_000_001_000);
  metrics.fetchFailed('E_FETCH_TIMEOUT');
  metrics.commitApplied('a'.repeat(40), 1_700_000_002_000);
  metrics.statusPublished({
    stalled: { code: 'E_INVALID_COMMIT', errorClass: 'invalid', since: 1_700_000_003_000 },
    services: [{ service: 'api', state: 'Stalled', code: 'E_REVERT_CONFLICT', errorClass: 'conflict', since: 1_700_000_004_000 }],
  });
  metrics.rolloutAttemptFinished('api', 'failed-transient');
  metrics.rolloutAttemptFinished('api', 'failed-change');
  metrics.rolloutFinished('api', 'failed-change');
  metrics.rollbackFinished('api', 'conflict');
  metrics.probeFinished('api', 25);
  metrics.hostObserved('web-1', false);
  metrics.driftObserved('api', 'web-1', true);
  metrics.servicePaused('api', 1_700_000_005_000);
  metrics.serviceHealthyAt('api', 1_700_000_000_000, 1_700_000_090_000);
  metrics.leadershipObserved({ leading: false, leader: 'tend-2', renewedAt: 1_700_000_006_000 });
  metrics.githostConfigured('gitlab');
  metrics.githostPublishLost('gitlab', 'status', 'gave-up');
  metrics.githostPublishLost('gitlab', 'comment', 'dropped');
  return metrics.metricsText();
}

describe('promtool check rules', () => {
  it('accepts deploy/alerts.yml', async () => {
    const result = await promtool(binary, ['check', 'rules', RULES]);
    expect(result.output).toContain('SUCCESS: 12 rules found');
    expect(result.code).toBe(0);
  });

  it('rejects a copy with a broken expression (the check can fail)', async () => {
    const broken = join(scratch, 'broken.yml');
    await writeFile(broken, (await readFile(RULES, 'utf8')).replace('up{job="tend"} == 0', 'up{job="tend" == 0'));
    const result = await promtool(binary, ['check', 'rules', broken]);
    expect(result.output).toContain('TendDown');
    expect(result.code).not.toBe(0);
  });
});

describe('promtool test rules', () => {
  it('passes deploy/alerts.test.yml: each alert fires on its series and stays quiet on the others', async () => {
    const result = await promtool(binary, ['test', 'rules', RULE_TESTS]);
    expect(result.output).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });

  it('fails when an alert would fire later than the tests say (the tests can fail)', async () => {
    await writeFile(join(scratch, 'alerts.yml'), (await readFile(RULES, 'utf8')).replace('> 600', '> 900'));
    await copyFile(RULE_TESTS, join(scratch, 'alerts.test.yml'));
    const result = await promtool(binary, ['test', 'rules', join(scratch, 'alerts.test.yml')]);
    expect(result.output).toContain('alertname: TendSourceStale, time: 11m');
    expect(result.code).not.toBe(0);
  });

  it('has a firing and a quiet case for every alert in the rules', async () => {
    const tests = parse(await readFile(RULE_TESTS, 'utf8')) as { tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[] };
    const cases = tests.tests.flatMap((one) => one.alert_rule_test);
    for (const { alert } of await rules()) {
      expect(cases.some((one) => one.alertname === alert && one.exp_alerts.length > 0), `${alert} fires somewhere`).toBe(true);
      expect(cases.some((one) => one.alertname === alert && one.exp_alerts.length === 0), `${alert} stays quiet somewhere`).toBe(true);
    }
  });
});

describe('the rules and the metrics', () => {
  it('alert only on metric families TendMetrics exports', async () => {
    const families = familiesOf(await exercisedMetrics());
    const used = new Set((await rules()).flatMap((rule) => [...rule.expr.matchAll(/\btend_[a-z0-9_]+/g)].map(([name]) => name)));
    expect(used.size).toBeGreaterThan(8);
    for (const name of used) expect(families.has(name), `${name} is exported`).toBe(true);
  });

  it('select label values that TendMetrics really exports (states, results)', async () => {
    const samples = samplesOf(await exercisedMetrics());
    const selectors = (await rules()).flatMap((rule) => [...rule.expr.matchAll(/\b(tend_[a-z0-9_]+)\{([a-z_]+)="([^"]*)"\}/g)]);
    expect(selectors.length).toBeGreaterThan(1);
    for (const [selector, name, label, value] of selectors) {
      expect(samples.some((sample) => sample.name === name && label !== undefined && sample.labels[label] === value), `${selector} matches a series`).toBe(true);
    }
  });

  it('give every alert a severity, a summary, a description and a runbook naming a tend command', async () => {
    for (const rule of await rules()) {
      expect(['critical', 'warning', 'info'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.description, rule.alert).toMatch(/\$labels\.instance/);
      expect(rule.annotations?.runbook, rule.alert).toMatch(/`tend (status|retry|ack)/);
    }
  });
});

describe('promtool check metrics', () => {
  it('finds nothing to lint in the tend_ families', async () => {
    const text = await exercisedMetrics();
    const ours = text
      .split('\n')
      .filter((line) => /^(# (HELP|TYPE) )?tend_/.test(line))
      .join('\n');
    expect(ours).toContain('tend_service_state{');
    const result = await promtool(binary, ['check', 'metrics'], `${ours}\n`);
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  });

  it('passes the whole exposition, prom-client\'s process_ and nodejs_ metrics included (exit 0)', async () => {
    const text = await exercisedMetrics();
    expect(text).toContain('\nprocess_cpu_user_seconds_total ');
    expect(text).toContain('\nnodejs_active_handles{');
    const result = await promtool(binary, ['check', 'metrics'], text);
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  });

  it('reports a counter without _total (the lint can fail)', async () => {
    const result = await promtool(binary, ['check', 'metrics'], '# HELP tend_rollouts Rollouts.\n# TYPE tend_rollouts counter\ntend_rollouts 1\n');
    expect(result.output).toContain('counter metrics should have "_total" suffix');
    expect(result.code).not.toBe(0);
  });
});
