import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { TendMetrics } from '../../../src/observability/metrics.js';
import { familiesOf } from './exposition.js';
import { ensurePromtool, promtool } from './promtool.js';

/**
 * deploy/grafana-dashboard.json, tied to what tend exports: every query (panels and template variables)
 * may name only metric families TendMetrics exposes, and every query must parse as PromQL in the real
 * promtool, so a renamed metric breaks this test instead of leaving an empty panel.
 */
const DASHBOARD = 'deploy/grafana-dashboard.json';

interface Panel {
  readonly title?: string;
  readonly targets?: readonly { readonly expr?: string }[];
  readonly panels?: readonly Panel[];
}

interface Dashboard {
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly { readonly name: string; readonly type: string; readonly query?: string | { readonly query?: string } }[] };
}

let binary: string;
let scratch: string;

beforeAll(async () => {
  binary = await ensurePromtool();
  scratch = await mkdtemp(join(tmpdir(), 'tend-dashboard-'));
}, 600_000);

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function dashboard(): Promise<Dashboard> {
  return JSON.parse(await readFile(DASHBOARD, 'utf8')) as Dashboard;
}

/** Every PromQL query of the dashboard with where it is; `label_values(SELECTOR, label)` becomes SELECTOR. */
function queriesOf(board: Dashboard): { where: string; expr: string }[] {
  const walk = (panels: readonly Panel[]): { where: string; expr: string }[] =>
    panels.flatMap((panel) => [
      ...(panel.targets ?? []).flatMap((target) => (target.expr === undefined ? [] : [{ where: `panel "${panel.title ?? '?'}"`, expr: target.expr }])),
      ...walk(panel.panels ?? []),
    ]);
  const variables = board.templating.list
    .filter((variable) => variable.type === 'query')
    .map((variable) => {
      const query = typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? '');
      return { where: `variable $${variable.name}`, expr: /^label_values\((.*),\s*[a-zA-Z_]\w*\)$/.exec(query)?.[1] ?? query };
    });
  return [...walk(board.panels), ...variables];
}

/** Grafana's variables as a Prometheus would receive them once Grafana substituted them. */
function substituted(expr: string): string {
  return expr.replaceAll('$__rate_interval', '5m').replaceAll('$__range', '1h').replaceAll(/\$\{?\w+\}?/g, '.*');
}

const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/** The metric names a PromQL expression selects: identifiers outside strings, label matchers, ranges and grouping, that are not functions or keywords. */
function metricNamesIn(expr: string): string[] {
  const bare = substituted(expr)
    .replaceAll(/"(?:[^"\\]|\\.)*"/g, '""')
    .replaceAll(/\{[^}]*\}/g, ' ')
    .replaceAll(/\[[^\]]*\]/g, ' ')
    .replaceAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = [...bare.matchAll(/(?<![\w:.])([a-zA-Z_:][\w:]*)(\s*\()?/g)]
    .filter(([, , call]) => call === undefined)
    .map(([, name]) => name ?? '')
    .filter((name) => !PROMQL_WORDS.has(name.toLowerCase()));
  return [...new Set(names)];
}

/** The names a scrape of tend holds: each family, histograms and summaries with their series suffixes. */
async function exportedNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const [family, type] of familiesOf(await new TendMetrics({ startedAt: Date.now() }).metricsText())) {
    names.add(family);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${family}${suffix}`);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(`${family}${suffix}`);
  }
  return names;
}

describe('deploy/grafana-dashboard.json', () => {
  it('selects only metrics tend exports, in every panel and template variable', async () => {
    const exported = await exportedNames();
    const queries = queriesOf(await dashboard());
    expect(queries.length).toBeGreaterThan(20);
    const unknown = queries.flatMap(({ where, expr }) => metricNamesIn(expr).filter((name) => !exported.has(name)).map((name) => `${where}: ${name}`));
    expect(unknown).toEqual([]);
    const used = new Set(queries.flatMap(({ expr }) => metricNamesIn(expr)));
    expect([...used].filter((name) => name.startsWith('tend_')).length).toBeGreaterThan(15);
  });

  it('would report a metric tend does not export (the check can fail)', async () => {
    const exported = await exportedNames();
    const names = metricNamesIn('sum by (service) (rate(tend_rollouts_totl{instance=~"$instance",result="succeeded"}[$__rate_interval])) or vector(0)');
    expect(names).toEqual(['tend_rollouts_totl']);
    expect(names.filter((name) => !exported.has(name))).toEqual(['tend_rollouts_totl']);
  });

  it('has queries that all parse as PromQL (promtool check rules)', async () => {
    const queries = queriesOf(await dashboard());
    const rules = { groups: [{ name: 'dashboard', rules: queries.map(({ expr }, index) => ({ record: `dashboard:query_${index}`, expr: substituted(expr) })) }] };
    const file = join(scratch, 'dashboard-rules.yml');
    await writeFile(file, stringify(rules));
    const result = await promtool(binary, ['check', 'rules', file]);
    expect(result.output).toContain(`SUCCESS: ${queries.length} rules found`);
    expect(result.code).toBe(0);
  });

  it('gives every panel a title and a description, and a unique id', async () => {
    const board = await dashboard();
    const flat = (panels: readonly Panel[]): Panel[] => panels.flatMap((panel) => [panel, ...flat(panel.panels ?? [])]);
    const panels = flat(board.panels) as (Panel & { id?: number; type?: string; description?: string })[];
    expect(panels.filter((panel) => !panel.title).length).toBe(0);
    expect(panels.filter((panel) => panel.type !== 'row' && !panel.description).map((panel) => panel.title)).toEqual([]);
    expect(new Set(panels.map((panel) => panel.id)).size).toBe(panels.length);
  });
});
