import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monitoringTargets, monitoringTargetText } from '../../../src/render/index.js';
import { directoryReader, loadRepo } from '../../../src/spec/index.js';
import { ensurePromtool, promtool } from '../observability/promtool.js';

/** `tend render --monitoring` output as a real Prometheus loads it: promtool check config reads file_sd files. */

let binary: string;
let scratch: string;

beforeAll(async () => {
  binary = await ensurePromtool();
  scratch = await mkdtemp(join(tmpdir(), 'tend-file-sd-'));
}, 600_000);

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function prometheusConfigFor(dir: string, files: Record<string, string>): Promise<string> {
  await mkdir(join(dir, 'file_sd'), { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, 'file_sd', name), text);
  const config = join(dir, 'prometheus.yml');
  await writeFile(config, `scrape_configs:\n  - job_name: tend-services\n    file_sd_configs:\n      - files: ['${join(dir, 'file_sd', '*.json')}']\n`);
  return config;
}

describe('file_sd target files in promtool', () => {
  it('loads the target files of every service with a metrics_port', async () => {
    const loaded = await loadRepo(directoryReader('deploy-repo-example'));
    if (!loaded.ok) throw new Error('the example repo must load');
    const spec = loaded.repo;
    const services = spec.services.map((service, index) => ({ ...service, metricsPort: 9100 + index }));
    const files = monitoringTargets({ inventory: spec.inventory, services });
    expect(files.length).toBeGreaterThan(0);
    const dir = join(scratch, 'valid');
    const config = await prometheusConfigFor(dir, Object.fromEntries(files.map((file) => [`${file.service}.json`, monitoringTargetText(file)])));
    const result = await promtool(binary, ['check', 'config', config]);
    expect(result.code, result.output).toBe(0);
  });

  it('refuses a broken target file, so the check above can fail', async () => {
    const dir = join(scratch, 'broken');
    const config = await prometheusConfigFor(dir, { 'api.json': '[{ "targets": ["10.78.0.11:9100"], "labels": { "0bad label": "x" } }]\n' });
    const result = await promtool(binary, ['check', 'config', config]);
    expect(result.code, result.output).not.toBe(0);
    expect(result.output).toMatch(/checking SD file.*not a valid label name/);
  });
});
