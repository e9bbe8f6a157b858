import { readFile } from 'node:fs/promises';

import { describe, expect, it } from 'vitest';

import { readSchema } from '../../../src/spec/index.js';
import { README_URL, REFERENCED_FILES, generatedRegion, regionFor, renderSpecReference, splitDefault } from '../../docs/spec-reference.js';

type Schema = Readonly<Record<string, unknown>>;

function isSchema(value: unknown): value is Schema {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Every leaf field path of a schema, found without the generator's code so a construct the generator does
 * not walk (a new keyword, a field only in an anyOf branch) still shows up here: through $ref, anyOf, oneOf,
 * allOf and if/then/else, into properties, map values (`.<name>`) and list items (`[]`).
 */
function leafPaths(root: Schema): Set<string> {
  const defs = isSchema(root['$defs']) ? root['$defs'] : {};
  const leaves = new Set<string>();
  const branches = (schema: Schema): Schema[] => {
    const ref = typeof schema['$ref'] === 'string' ? schema['$ref'] : undefined;
    const target = ref === undefined ? undefined : defs[ref.replace('#/$defs/', '')];
    const nested = ['anyOf', 'oneOf', 'allOf'].flatMap((key) => (Array.isArray(schema[key]) ? schema[key].filter(isSchema) : []));
    const conditional = ['then', 'else'].map((key) => schema[key]).filter(isSchema);
    return [schema, ...(isSchema(target) ? branches(target) : []), ...nested.flatMap(branches), ...conditional.flatMap(branches)];
  };
  const visit = (schema: Schema, path: string): void => {
    let container = false;
    const prefix = path === '' ? '' : `${path}.`;
    for (const branch of branches(schema)) {
      const properties = branch['properties'];
      if (isSchema(properties)) {
        container = true;
        for (const [key, property] of Object.entries(properties)) if (isSchema(property)) visit(property, `${prefix}${key}`);
      }
      const values = branch['additionalProperties'];
      if (isSchema(values)) {
        container = true;
        visit(values, `${prefix}<name>`);
      }
      const items = branch['items'];
      if (isSchema(items) && branches(items).some((item) => isSchema(item['properties']))) {
        container = true;
        visit(items, `${path}[]`);
      }
    }
    if (!container) leaves.add(path);
  };
  visit(root, '');
  return leaves;
}

describe('the README spec reference', () => {
  it('is what the schemas generate today', async () => {
    const readme = await readFile(README_URL, 'utf8');
    const region = generatedRegion(readme);
    expect(region, 'README.md must contain the spec-reference start and end markers, once each').toBeDefined();
    expect(region, 'README.md spec reference is out of date: run `npx tsx test/docs/spec-reference.ts --write`').toBe(
      regionFor(await renderSpecReference()),
    );
  });

  it.each(REFERENCED_FILES)('documents every leaf field of $file in a table row', async ({ schema: name }) => {
    const reference = await renderSpecReference();
    const leaves = [...leafPaths(readSchema(name))];
    expect(leaves.length).toBeGreaterThan(0);
    const missing = leaves.filter((path) => !reference.includes(`\n| \`${path}\` |`));
    expect(missing, 'fields with no row in the spec reference').toEqual([]);
  });

  it('finds nested, mapped and listed leaves (the check above would pass vacuously otherwise)', () => {
    expect([...leafPaths(readSchema('spec'))]).toEqual(
      expect.arrayContaining(['service.deploy.probe.port', 'service.timers[].name', 'service.allow_env', 'service.resources']),
    );
    expect([...leafPaths(readSchema('inventory'))]).toEqual(expect.arrayContaining(['hosts.<name>.address', 'groups.<name>']));
  });
});

describe('splitDefault', () => {
  it.each([
    ['The SSH port. Default 22.', '`22`', 'The SSH port.'],
    ['Time between two probe attempts. Default `1s`.', '`1s`', 'Time between two probe attempts.'],
    ['A description. Optional; default is the empty string. Example: `x`.', 'the empty string', 'A description. Example: `x`.'],
    ['How many, from 0 to 1; default 0.5.', '`0.5`', 'How many, from 0 to 1.'],
    ['The SSH user. Default `root`; any other user needs sudo. Example: `deploy`.', '`root`', 'The SSH user. Any other user needs sudo. Example: `deploy`.'],
    ['Path of the file. Default: the file named like the service.', 'the file named like the service', 'Path of the file.'],
    ['Whether to prune. Default false: they are left running.', '`false`: they are left running', 'Whether to prune.'],
  ])('moves the stated default of %j into the default column', (description, defaultValue, rest) => {
    expect(splitDefault(description)).toEqual({ defaultValue, description: rest });
  });

  it.each([
    'Optional; every field has a default.',
    'For a package: the full command line, default `/usr/bin/<service name>`. Example: `["--port", "8080"]`.',
    'Version `1.2.3`. Optional.',
  ])('leaves a default that is not a plain statement in the prose: %j', (description) => {
    expect(splitDefault(description)).toEqual({ defaultValue: undefined, description });
  });
});
