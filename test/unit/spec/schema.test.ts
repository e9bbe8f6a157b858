import { describe, expect, it } from 'vitest';

import { INVENTORY_DEFAULTS, SETTINGS_DEFAULTS, SPEC_DEFAULTS } from '../../../src/spec/defaults.js';
import { readSchema } from '../../../src/spec/index.js';
import type { SchemaName } from '../../../src/spec/index.js';

type Schema = Record<string, unknown>;

/** Every schema that describes a value a person writes: properties, items, map values, $defs, anyOf branches. */
function documentedSchemas(schema: Schema, path: string): [string, Schema][] {
  const out: [string, Schema][] = [[path, schema]];
  const child = (value: unknown, at: string): void => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) out.push(...documentedSchemas(value as Schema, at));
  };
  for (const [name, value] of Object.entries((schema['properties'] as Schema | undefined) ?? {})) child(value, `${path}.${name}`);
  for (const [name, value] of Object.entries((schema['$defs'] as Schema | undefined) ?? {})) child(value, `${path}.$defs.${name}`);
  child(schema['items'], `${path}[]`);
  child(schema['additionalProperties'], `${path}.*`);
  child(schema['propertyNames'], `${path}.<name>`);
  for (const [index, branch] of ((schema['anyOf'] as unknown[] | undefined) ?? []).entries()) child(branch, `${path}|${index}`);
  return out;
}

function at(schema: Schema, ...path: string[]): Schema {
  let current: unknown = schema;
  for (const segment of path) current = (current as Schema)[segment];
  return current as Schema;
}

const names: SchemaName[] = ['spec', 'inventory', 'tend'];

describe('the JSON Schemas are the reference documentation', () => {
  it.each(names)('%s: every field has a description that is a sentence', (name) => {
    const undocumented = documentedSchemas(readSchema(name), name).filter(([, schema]) => {
      const text = schema['description'];
      return typeof text !== 'string' || text.length < 10 || !/[.)]$/.test(text);
    });
    expect(undocumented.map(([path]) => path)).toEqual([]);
  });

  it.each(names)('%s: is draft 2020-12 and refuses unknown fields on every object', (name) => {
    const schema = readSchema(name);
    expect(schema['$schema']).toBe('https://json-schema.org/draft/2020-12/schema');
    const open = documentedSchemas(schema, name).filter(([, part]) => part['type'] === 'object' && part['additionalProperties'] === undefined && part['properties'] !== undefined);
    expect(open.map(([path]) => path)).toEqual([]);
  });

  const spec = readSchema('spec');
  const deploy = at(spec, '$defs', 'deploy', 'properties');
  const probe = at(spec, '$defs', 'probe', 'properties');
  const limits = at(spec, '$defs', 'limits', 'properties');
  const run = at(spec, '$defs', 'run', 'properties');
  const host = at(readSchema('inventory'), '$defs', 'host', 'properties');
  const settings = at(readSchema('tend'), 'properties');
  it.each([
    ['serial', deploy['serial'], `Default ${SPEC_DEFAULTS.serial}.`],
    ['canary', deploy['canary'], `Default ${SPEC_DEFAULTS.canary}.`],
    ['max_failed_hosts', deploy['max_failed_hosts'], `Default ${SPEC_DEFAULTS.maxFailedHosts}.`],
    ['min_healthy_time', deploy['min_healthy_time'], `Default \`${SPEC_DEFAULTS.minHealthyTime}\`.`],
    ['healthy_deadline', deploy['healthy_deadline'], `Default \`${SPEC_DEFAULTS.healthyDeadline}\`.`],
    ['progress_deadline', deploy['progress_deadline'], `Default \`${SPEC_DEFAULTS.progressDeadline}\`.`],
    ['auto_rollback', deploy['auto_rollback'], `Default ${String(SPEC_DEFAULTS.autoRollback)}.`],
    ['path', probe['path'], `Default \`${SPEC_DEFAULTS.probePath}\`.`],
    ['expect_status', probe['expect_status'], `Default ${SPEC_DEFAULTS.expectStatus}.`],
    ['interval', probe['interval'], `Default \`${SPEC_DEFAULTS.interval}\`.`],
    ['timeout', probe['timeout'], `Default \`${SPEC_DEFAULTS.timeout}\`.`],
    ['mem', limits['mem'], `Default \`${SPEC_DEFAULTS.mem}\`.`],
    ['no_file', limits['no_file'], `Default ${SPEC_DEFAULTS.noFile}.`],
    ['fetch', run['fetch'], `Default \`${SPEC_DEFAULTS.fetch}\`.`],
    ['allow_http', run['allow_http'], `Default ${String(SPEC_DEFAULTS.allowHttp)}.`],
    ['port', host['port'], `Default ${INVENTORY_DEFAULTS.port}.`],
    ['user', host['user'], `Default \`${INVENTORY_DEFAULTS.user}\``],
    ['concurrency', settings['concurrency'], `Default ${SETTINGS_DEFAULTS.concurrency}.`],
    ['keep_releases', settings['keep_releases'], `Default ${SETTINGS_DEFAULTS.keepReleases}.`],
    ['max_fraction', at(settings, 'prune', 'properties', 'max_fraction'), `default ${SETTINGS_DEFAULTS.pruneMaxFraction}.`],
    ['enabled', at(settings, 'prune', 'properties', 'enabled'), `Default ${String(SETTINGS_DEFAULTS.pruneEnabled)}`],
  ])('states the default of %s that the loader applies', (_, schema, sentence) => {
    expect((schema as Schema)['description']).toContain(sentence);
  });
});
