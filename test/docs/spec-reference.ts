/**
 * The README's spec reference, generated from the JSON Schemas in schemas/ so the two cannot drift:
 * one table per file (dotted field path, type, default, description) and an example of each file.
 *
 *   npx tsx test/docs/spec-reference.ts           print the section
 *   npx tsx test/docs/spec-reference.ts --write   replace the text between the README's markers
 *
 * test/unit/docs/spec-reference.test.ts fails when README.md is out of date or a field is missing.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { stringify } from 'yaml';

import { SETTINGS_DEFAULTS } from '../../src/spec/defaults.js';
import { readSchema } from '../../src/spec/index.js';
import type { SchemaName } from '../../src/spec/index.js';

export const README_URL = new URL('../../README.md', import.meta.url);
export const START_MARKER = '<!-- spec-reference:start -->';
export const END_MARKER = '<!-- spec-reference:end -->';

const REPO_URL = new URL('../../', import.meta.url);

type Schema = Readonly<Record<string, unknown>>;

interface ReferencedFile {
  readonly schema: SchemaName;
  /** Where the file sits in a deploy repo. */
  readonly file: string;
}

/** In the order a reader meets them: the services first, then the hosts they run on, then the settings. */
export const REFERENCED_FILES: readonly ReferencedFile[] = [
  { schema: 'spec', file: 'services/<name>/spec.yml' },
  { schema: 'inventory', file: 'inventory.yml' },
  { schema: 'tend', file: 'tend.yml' },
];

export interface FieldRow {
  readonly path: string;
  readonly type: string;
  readonly defaultValue: string;
  readonly description: string;
}

/**
 * Types that a plain reading of the schema would render as something the reader must not write: a
 * duration is typed string-or-number only so the loader can refuse a bare number with a useful message.
 */
const DEF_TYPE_LABELS: Readonly<Record<string, string>> = {
  duration: 'string (duration, e.g. 500ms, 2m)',
  cron: 'string (cron expression)',
};

const FORMAT_LABELS: Readonly<Record<string, string>> = {
  ipv4: 'IPv4 address',
  ipv6: 'IPv6 address',
  hostname: 'DNS name',
};

function isSchema(value: unknown): value is Schema {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function stringProp(schema: Schema, key: string): string | undefined {
  const value = schema[key];
  return typeof value === 'string' ? value : undefined;
}

function numberProp(schema: Schema, key: string): number | undefined {
  const value = schema[key];
  return typeof value === 'number' ? value : undefined;
}

function schemaList(value: unknown): readonly Schema[] {
  return Array.isArray(value) ? value.filter(isSchema) : [];
}

interface Resolved {
  readonly schema: Schema;
  /** The $defs name the schema came from, if it was a $ref. */
  readonly defName: string | undefined;
}

/**
 * Follows a local `$ref`; keywords next to the `$ref` (above all its `description`) win over the
 * definition's, as they do for ajv.
 */
function resolve(root: Schema, schema: Schema): Resolved {
  const ref = stringProp(schema, '$ref');
  if (ref === undefined) return { schema, defName: undefined };
  const match = /^#\/\$defs\/([^/]+)$/.exec(ref);
  const defs = root['$defs'];
  const target = match?.[1] !== undefined && isSchema(defs) ? defs[match[1]] : undefined;
  if (match?.[1] === undefined || !isSchema(target)) throw new Error(`cannot resolve $ref ${ref}`);
  const { $ref: _ref, ...siblings } = schema;
  const inner = resolve(root, target);
  return { schema: { ...inner.schema, ...siblings }, defName: match[1] };
}

function hasFields(root: Schema, schema: Schema): boolean {
  return isSchema(resolve(root, schema).schema['properties']);
}

function plural(type: string): string {
  return type.replace(/^(string|integer|number|object|boolean)\b/, '$1s');
}

function range(type: string, schema: Schema): string {
  const min = numberProp(schema, 'minimum');
  const max = numberProp(schema, 'maximum');
  if (min !== undefined && max !== undefined) return `${type} ${min}–${max}`;
  if (min !== undefined) return `${type} ≥ ${min}`;
  if (max !== undefined) return `${type} ≤ ${max}`;
  return type;
}

function keyLabel(schema: Schema): string {
  const names = schema['propertyNames'];
  const description = isSchema(names) ? stringProp(names, 'description') : undefined;
  if (description === undefined) return 'key';
  return description.replace(/^an? /i, '').replace(/\.$/, '');
}

function typeOfSingle(root: Schema, schema: Schema, type: string): string {
  switch (type) {
    case 'integer':
    case 'number':
      return range(type, schema);
    case 'string': {
      const pattern = stringProp(schema, 'pattern');
      if (pattern?.endsWith('%$') === true) return '"NN%"';
      const format = stringProp(schema, 'format');
      return format === undefined ? 'string' : `string (${FORMAT_LABELS[format] ?? format})`;
    }
    case 'array': {
      const items = schema['items'];
      return isSchema(items) ? `list of ${plural(typeOf(root, items))}` : 'list';
    }
    case 'object': {
      const values = schema['additionalProperties'];
      if (isSchema(values)) return `map of ${keyLabel(schema)} → ${typeOf(root, values)}`;
      return 'object';
    }
    default:
      return type;
  }
}

/** A type as the reader writes it in YAML: `integer 1–65535`, `"http" | "tcp" | "exec"`, `integer ≥ 1 or "NN%"`. */
function typeOf(root: Schema, node: Schema): string {
  const { schema, defName } = resolve(root, node);
  const label = defName === undefined ? undefined : DEF_TYPE_LABELS[defName];
  if (label !== undefined) return label;
  const values = Array.isArray(schema['enum']) ? schema['enum'] : 'const' in schema ? [schema['const']] : undefined;
  if (values !== undefined) return values.map((value) => JSON.stringify(value)).join(' | ');

  const branches = [...schemaList(schema['anyOf']), ...schemaList(schema['oneOf'])];
  const type = schema['type'];
  const types = Array.isArray(type) ? type.filter((t): t is string => typeof t === 'string') : typeof type === 'string' ? [type] : [];
  if (branches.length > 0) {
    const formats = branches.map((branch) => stringProp(branch, 'format'));
    if (types.length === 1 && formats.every((format) => format !== undefined)) {
      const names = formats.map((format) => FORMAT_LABELS[format] ?? format);
      return `${types[0]} (${names.slice(0, -1).join(', ')} or ${names.at(-1)})`;
    }
    return [...new Set(branches.map((branch) => typeOf(root, { ...schema, anyOf: undefined, oneOf: undefined, ...branch })))].join(' or ');
  }
  if (types.length === 0) return 'any';
  return types.map((t) => typeOfSingle(root, schema, t)).join(' or ');
}

/** Splits prose into sentences, never inside a `code span`. */
function sentences(text: string): string[] {
  const result: string[] = [];
  let current = '';
  let inCode = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i] ?? '';
    current += char;
    if (char === '`') inCode = !inCode;
    if (!inCode && char === '.' && /\s/.test(text[i + 1] ?? '')) {
      result.push(current.trim());
      current = '';
    }
  }
  if (current.trim() !== '') result.push(current.trim());
  return result;
}

/** Backticks around a bare literal default (`22`, `true`, `0.5`), as the descriptions do for `1s`. */
function codeLiteral(value: string): string {
  return value.replace(/^(true|false|-?\d+(?:\.\d+)?)(?=$|[:;, ])/, '`$1`');
}

/** Splits at the first `separator` that is not inside a code span. */
function splitOutsideCode(text: string, separator: string): [string, string | undefined] {
  let inCode = false;
  for (let i = 0; i < text.length; i += 1) {
    if (text[i] === '`') inCode = !inCode;
    else if (!inCode && text.startsWith(separator, i)) return [text.slice(0, i), text.slice(i + separator.length)];
  }
  return [text, undefined];
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * The schemas state defaults in their descriptions ("Default `1s`.", "Optional; default is none.", "From 0
 * to 1; default 0.5."); the table shows the default in its own column and drops the sentence from the
 * description, so it is not said twice. A default that depends on another field ("For a package: ...,
 * default `/usr/bin/<service name>`") stays in the prose, where its condition is.
 */
export function splitDefault(description: string): { readonly defaultValue: string | undefined; readonly description: string } {
  let defaultValue: string | undefined;
  const kept: string[] = [];
  for (const sentence of sentences(description)) {
    if (defaultValue !== undefined) {
      kept.push(sentence);
      continue;
    }
    const whole = /^(?:Optional; )?[Dd]efault(?::| is)? (.+)\.$/.exec(sentence);
    const clause = /^(.+); default(?: is)? ([^;]+)\.$/.exec(sentence);
    if (whole?.[1] !== undefined) {
      // "Default `root`; any other user runs ..." keeps what follows the value as its own sentence.
      const [value, rest] = splitOutsideCode(whole[1], '; ');
      defaultValue = codeLiteral(value);
      if (rest !== undefined) kept.push(`${capitalize(rest)}.`);
    } else if (clause?.[1] !== undefined && clause[2] !== undefined && !clause[1].startsWith('Optional')) {
      defaultValue = codeLiteral(clause[2]);
      kept.push(`${clause[1]}.`);
    } else {
      kept.push(sentence);
    }
  }
  return { defaultValue, description: kept.join(' ') };
}

function literal(value: unknown): string {
  return `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;
}

function fieldRow(root: Schema, node: Schema, path: string, required: boolean): FieldRow {
  const { schema } = resolve(root, node);
  const stated = splitDefault(stringProp(schema, 'description') ?? '');
  const keyword = 'default' in schema ? literal(schema['default']) : undefined;
  const defaultValue = required ? 'required' : (keyword ?? stated.defaultValue ?? '—');
  return { path, type: typeOf(root, node), defaultValue, description: stated.description };
}

/**
 * Every field of a schema in document order. Objects nested in a list (`service.timers[].name`) or a map
 * (`hosts.<name>.address`) get rows for their fields only: the list or map row already describes them.
 * Conditional keywords (allOf/if/then) only restrict fields declared under properties, so they add none.
 */
export function fieldRows(root: Schema): FieldRow[] {
  const rows: FieldRow[] = [];
  const visit = (node: Schema, path: string, required: boolean, row: boolean): void => {
    const { schema } = resolve(root, node);
    if (row) rows.push(fieldRow(root, node, path, required));
    const prefix = path === '' ? '' : `${path}.`;
    const properties = schema['properties'];
    if (isSchema(properties)) {
      const requiredKeys = Array.isArray(schema['required']) ? schema['required'] : [];
      for (const [key, property] of Object.entries(properties)) {
        if (isSchema(property)) visit(property, `${prefix}${key}`, requiredKeys.includes(key), true);
      }
    }
    const values = schema['additionalProperties'];
    if (isSchema(values)) visit(values, `${prefix}<name>`, false, !hasFields(root, values));
    const items = schema['items'];
    if (isSchema(items) && hasFields(root, items)) visit(items, `${path}[]`, false, false);
  };
  visit(root, '', false, false);
  return rows;
}

/**
 * Markdown for prose from a schema: outside code spans, `<name>` would be taken for an HTML tag and a pair
 * of `*` (as in `[A-Za-z0-9_]*` and `LD_*`) for emphasis.
 */
function prose(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part) => (part.startsWith('`') ? part : part.replace(/[<*]/g, '\\$&')))
    .join('');
}

function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
}

function table(rows: readonly FieldRow[]): string {
  const lines = ['| field | type | default | description |', '| --- | --- | --- | --- |'];
  for (const row of rows) {
    lines.push(`| ${cell(`\`${row.path}\``)} | ${cell(row.type)} | ${cell(row.defaultValue)} | ${cell(prose(row.description))} |`);
  }
  return lines.join('\n');
}

function yamlBlock(text: string): string {
  return ['```yaml', text.trimEnd(), '```'].join('\n');
}

async function repoFile(path: string): Promise<string> {
  return readFile(new URL(path, REPO_URL), 'utf8');
}

/** deploy-repo-example has no tend.yml; its example is every setting at the default the loader applies. */
function settingsExample(): string {
  const settings = {
    prune: { enabled: SETTINGS_DEFAULTS.pruneEnabled, max_fraction: SETTINGS_DEFAULTS.pruneMaxFraction },
    concurrency: SETTINGS_DEFAULTS.concurrency,
    parallel_services: SETTINGS_DEFAULTS.parallelServices,
    keep_releases: SETTINGS_DEFAULTS.keepReleases,
  };
  return `# Optional. These are the defaults, which apply without the file.\n${stringify(settings)}`;
}

async function example(name: SchemaName): Promise<{ readonly caption: string; readonly yaml: string }> {
  switch (name) {
    case 'spec':
      return { caption: 'Example, `deploy-repo-example/services/api/spec.yml`:', yaml: await repoFile('deploy-repo-example/services/api/spec.yml') };
    case 'inventory':
      return { caption: 'Example, `deploy-repo-example/inventory.yml`:', yaml: await repoFile('deploy-repo-example/inventory.yml') };
    case 'tend':
      return { caption: 'Example:', yaml: settingsExample() };
  }
}

export async function renderSpecReference(): Promise<string> {
  const sections = ['## Spec reference', 'Generated from the JSON Schemas in `schemas/` by `npx tsx test/docs/spec-reference.ts --write`; edit the schemas, not this section.'];
  for (const { schema: name, file } of REFERENCED_FILES) {
    const schema = readSchema(name);
    const { caption, yaml } = await example(name);
    sections.push(`### \`${file}\``, prose(stringProp(schema, 'description') ?? ''), table(fieldRows(schema)), caption, yamlBlock(yaml));
  }
  return `${sections.join('\n\n')}\n`;
}

/** The text between the markers, or undefined when README.md does not have each marker exactly once, in order. */
export function generatedRegion(readme: string): string | undefined {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (start < 0 || end < start || readme.indexOf(START_MARKER, start + 1) >= 0 || readme.indexOf(END_MARKER, end + 1) >= 0) return undefined;
  return readme.slice(start + START_MARKER.length, end);
}

/** What goes between the markers for a rendered reference: blank lines keep the comments apart from it. */
export function regionFor(reference: string): string {
  return `\n\n${reference}\n`;
}

export async function writeReadme(reference: string): Promise<void> {
  // README.md is edited by hand around the markers: read it just before writing and touch nothing else.
  const readme = await readFile(README_URL, 'utf8');
  const region = generatedRegion(readme);
  if (region === undefined) throw new Error(`README.md must contain ${START_MARKER} and then ${END_MARKER}, once each`);
  const start = readme.indexOf(START_MARKER) + START_MARKER.length;
  const updated = readme.slice(0, start) + regionFor(reference) + readme.slice(start + region.length);
  const temporary = new URL(`README.md.${process.pid}.tmp`, REPO_URL);
  await writeFile(temporary, updated, 'utf8');
  await rename(temporary, README_URL);
}

async function main(args: readonly string[]): Promise<void> {
  const reference = await renderSpecReference();
  if (args.includes('--write')) {
    await writeReadme(reference);
    process.stderr.write(`updated ${fileURLToPath(README_URL)}\n`);
  } else {
    process.stdout.write(reference);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv.slice(2));
}
