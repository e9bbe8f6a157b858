import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { maskedSecrets, renderHost } from '../../../src/render/index.js';
import { readSchema } from '../../../src/spec/schema-validation.js';
import {
  isTendUnitName,
  NAME_PATTERN,
  SERVICE_NAME,
  SERVICE_NAME_MAX_LENGTH,
  serviceNameProblem,
  TIMER_NAME_MAX_LENGTH,
  timerNameProblem,
  UNIT_NAME_MAX_BYTES,
  type NameProblem,
} from '../../../src/spec/service-names.js';
import { ARTICLE_SPEC, repoWithService } from './fixture-repo.js';
import { loadFiles } from './load-files.js';

/**
 * What a service or timer name may be, decided once. Each row is a name and the verdict of the whole
 * pipeline: `valid` (the commit validates and every host's units render) or the code validation refuses it
 * with, at the name's position. There is no third outcome: a name that validates and then fails to render
 * is the defect these rows exist for (a 37-character service name once did exactly that).
 */
export interface NameCase {
  readonly label: string;
  readonly service: string;
  readonly timer?: string;
  readonly verdict: 'valid' | 'E_SCHEMA' | 'E_RESERVED_NAME';
}

export const nameCases: readonly NameCase[] = [
  { label: 'one letter', service: 'a', verdict: 'valid' },
  { label: 'letters, digits and dashes', service: 'billing-worker-2', verdict: 'valid' },
  { label: '31 characters, the longest (a DynamicUser name)', service: 'a'.repeat(31), verdict: 'valid' },
  { label: '32 characters', service: 'a'.repeat(32), verdict: 'E_SCHEMA' },
  { label: '37 characters (validated, then failed to render)', service: `billing-${'x'.repeat(29)}`, verdict: 'E_SCHEMA' },
  { label: '48 characters', service: 'a'.repeat(48), verdict: 'E_SCHEMA' },
  { label: 'a leading digit', service: '1api', verdict: 'E_SCHEMA' },
  { label: 'an underscore (a valid user name, not ours)', service: 'my_api', verdict: 'E_SCHEMA' },
  { label: 'a system unit', service: 'sshd', verdict: 'E_RESERVED_NAME' },
  { label: 'a systemd- prefix', service: 'systemd-foo', verdict: 'E_RESERVED_NAME' },
  { label: 'a timer of 32 characters on the longest service', service: 'a'.repeat(31), timer: 'b'.repeat(32), verdict: 'valid' },
  { label: 'a timer of 33 characters', service: 'api', timer: 'b'.repeat(33), verdict: 'E_SCHEMA' },
  { label: 'a timer pushing <service>-<timer>.service past 255 bytes', service: 'a'.repeat(31), timer: 'b'.repeat(220), verdict: 'E_SCHEMA' },
  { label: 'a timer with an uppercase letter', service: 'api', timer: 'Cleanup', verdict: 'E_SCHEMA' },
  { label: 'a timer whose units would be a system unit (apt-daily.timer)', service: 'apt', timer: 'daily', verdict: 'E_RESERVED_NAME' },
  { label: 'a timer whose units would be a system unit (man-db.timer)', service: 'man', timer: 'db', verdict: 'E_RESERVED_NAME' },
];

function specOf(name: string, timer: string | undefined): string {
  const spec = ARTICLE_SPEC.replace('  name: api\n', `  name: ${name}\n`);
  return timer === undefined ? spec : `${spec}  timers:\n    - name: ${timer}\n      schedule: "30 3 * * *"\n      command: ["/bin/true"]\n`;
}

describe('a service or timer name either validates and renders, or is refused at validation', () => {
  it.each(nameCases)('$label: $verdict', async ({ service, timer, verdict }) => {
    const result = await loadFiles(repoWithService(service, specOf(service, timer)));
    if (verdict === 'valid') {
      expect(result.ok ? [] : result.issues).toEqual([]);
      if (!result.ok) return;
      for (const host of result.repo.inventory.hosts) {
        expect(() => renderHost(result.repo, host, maskedSecrets)).not.toThrow();
      }
      return;
    }
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const nameLine = timer === undefined ? 2 : 20;
    expect(result.issues).toContainEqual(expect.objectContaining({ code: verdict, file: `services/${service}/spec.yml`, line: nameLine }));
  });
});

function verdictOf(problem: NameProblem | undefined): NameCase['verdict'] {
  if (problem === undefined) return 'valid';
  return problem.kind === 'shape' ? 'E_SCHEMA' : 'E_RESERVED_NAME';
}

describe('the rule of spec/service-names.ts', () => {
  it.each(nameCases)('gives $label the verdict of the whole pipeline', ({ service, timer, verdict }) => {
    const problem = serviceNameProblem(service) ?? (timer === undefined ? undefined : timerNameProblem(service, timer));
    expect(verdictOf(problem)).toBe(verdict);
  });

  it.each(nameCases.filter((row) => row.verdict === 'valid'))('lets systemctl, observe and metrics take the units of $label', ({ service, timer }) => {
    expect(SERVICE_NAME.test(service)).toBe(true);
    expect(isTendUnitName(`${service}.service`)).toBe(true);
    if (timer === undefined) return;
    for (const unit of [`${service}-${timer}.service`, `${service}-${timer}.timer`]) {
      expect(isTendUnitName(unit)).toBe(true);
      expect(Buffer.byteLength(unit)).toBeLessThanOrEqual(UNIT_NAME_MAX_BYTES);
    }
  });
});

describe('the JSON Schema and the rule agree', () => {
  const schema = readSchema('spec') as { $defs: { serviceName: Record<string, unknown>; timer: { properties: { name: Record<string, unknown> } } } };
  const ajv = new Ajv2020({ strict: true });
  ajv.addKeyword({ keyword: 'x-error', schemaType: 'string' });
  const schemaTakesService = ajv.compile(schema.$defs.serviceName);
  const schemaTakesTimer = ajv.compile(schema.$defs.timer.properties.name);

  it('writes the same pattern and lengths', () => {
    expect(schema.$defs.serviceName).toMatchObject({ pattern: NAME_PATTERN, maxLength: SERVICE_NAME_MAX_LENGTH });
    expect(schema.$defs.timer.properties.name).toMatchObject({ pattern: NAME_PATTERN, maxLength: TIMER_NAME_MAX_LENGTH });
  });

  const boundaryNames = [
    '', 'a', 'a1', 'a-', 'a--b', '-a', '1a', '_a', 'A', 'aB', 'a_b', 'a.b', 'a/b', 'a b', 'é', 'a\n',
    ...[30, 31, 32, 33, 37, 48, 64, 200, 255, 256].map((length) => 'a'.repeat(length)),
  ];

  it.each(boundaryNames.map((name) => [JSON.stringify(name).slice(0, 40), name] as const))('on the shape of the service name %s', (_label, name) => {
    expect(schemaTakesService(name)).toBe(serviceNameProblem(name)?.kind !== 'shape');
  });

  it.each(boundaryNames.map((name) => [JSON.stringify(name).slice(0, 40), name] as const))('on the shape of the timer name %s', (_label, name) => {
    expect(schemaTakesTimer(name)).toBe(timerNameProblem('api', name)?.kind !== 'shape');
  });

  it('leaves reserved names to the loader, which refuses them as E_RESERVED_NAME', () => {
    expect(schemaTakesService('sshd')).toBe(true);
    expect(serviceNameProblem('sshd')?.kind).toBe('reserved');
  });
});
