import { readFileSync } from 'node:fs';

import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

import type { FileLocation, Issue } from '../errors/index.js';
import { closestMatch } from './did-you-mean.js';
import { SPEC_ISSUE_CODES, specIssue } from './issue-codes.js';
import type { SpecIssueCode } from './issue-codes.js';
import type { Pointer, YamlFile } from './yaml-document.js';

/**
 * The JSON Schemas in schemas/ are the reference for every field (the README's spec reference is
 * generated from their descriptions); this module validates a parsed file against one of them and turns
 * ajv's errors into issues a person can act on: the position of the YAML node, a dotted path, a
 * sentence instead of a keyword, and a hint.
 *
 * Schemas may carry `x-error`: the message to show when that (sub)schema fails, for constraints whose
 * raw form (a regular expression, an anyOf) would mean nothing to the reader; and `x-code`: the code the
 * failure is reported under instead of E_SCHEMA, for rules that have a code of their own (a Debian version,
 * a url without its sha256). ajv refuses an `x-code` that is not a validation code.
 */
export type SchemaName = 'spec' | 'inventory' | 'tend';

const SCHEMA_FILES: Readonly<Record<SchemaName, string>> = {
  spec: 'spec.schema.json',
  inventory: 'inventory.schema.json',
  tend: 'tend.schema.json',
};

/** schemas/ sits two levels above this file both in src/spec and in dist/spec. */
export function schemaUrl(name: SchemaName): URL {
  return new URL(`../../schemas/${SCHEMA_FILES[name]}`, import.meta.url);
}

export function readSchema(name: SchemaName): Record<string, unknown> {
  return JSON.parse(readFileSync(schemaUrl(name), 'utf8')) as Record<string, unknown>;
}

// ajv-formats is CommonJS: under NodeNext its default import is the module object, the plugin is `.default`.
const addFormats = (addFormatsModule as unknown as { default: (ajv: Ajv2020) => Ajv2020 }).default;

let compiled: Map<SchemaName, ValidateFunction> | undefined;

function validator(name: SchemaName): ValidateFunction {
  if (compiled === undefined) {
    const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true, strictRequired: false, allowUnionTypes: true });
    addFormats(ajv);
    ajv.addKeyword({ keyword: 'x-error', schemaType: 'string' });
    ajv.addKeyword({ keyword: 'x-code', schemaType: 'string', metaSchema: { enum: [...SPEC_ISSUE_CODES] } });
    compiled = new Map((Object.keys(SCHEMA_FILES) as SchemaName[]).map((key) => [key, ajv.compile(readSchema(key))]));
  }
  const validate = compiled.get(name);
  if (validate === undefined) throw new Error(`no schema named ${name}`);
  return validate;
}

type SchemaObject = Readonly<Record<string, unknown>>;

function schemaObject(value: unknown): SchemaObject {
  return value !== null && typeof value === 'object' ? (value as SchemaObject) : {};
}

function xError(schema: SchemaObject): string | undefined {
  const message = schema['x-error'];
  return typeof message === 'string' ? message : undefined;
}

function xCode(schema: SchemaObject): SpecIssueCode | undefined {
  const code = schema['x-code'];
  return typeof code === 'string' && (SPEC_ISSUE_CODES as readonly string[]).includes(code) ? (code as SpecIssueCode) : undefined;
}

function description(schema: SchemaObject): string | undefined {
  const text = schema['description'];
  return typeof text === 'string' ? text : undefined;
}

/** `/service/after/0` -> `service.after[0]`. */
export function dottedPath(pointer: Pointer): string {
  if (pointer === '') return '';
  let out = '';
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    out += /^\d+$/.test(segment) ? `[${segment}]` : out === '' ? segment : `.${segment}`;
  }
  return out;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function branchAccepts(branch: SchemaObject, dataType: string): boolean {
  const type = branch['type'];
  const types = typeof type === 'string' ? [type] : Array.isArray(type) ? (type as string[]) : undefined;
  if (types === undefined) return true;
  return types.includes(dataType) || (dataType === 'integer' && types.includes('number'));
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  null: 'empty',
};

function typeMessage(expected: unknown, data: unknown): string {
  const types = (Array.isArray(expected) ? expected : [expected]).map((type) => TYPE_NAMES[String(type)] ?? String(type));
  const wanted = types.length <= 1 ? (types[0] ?? 'something else') : `${types.slice(0, -1).join(', ')} or ${types.at(-1) ?? ''}`;
  if (data === null) return `is empty; it must be ${wanted}`;
  const actual = TYPE_NAMES[jsonType(data)] ?? jsonType(data);
  // `version: 1.10` and an all-digit sha256 are numbers to YAML: say how to keep them strings.
  const quote = types.length === 1 && types[0] === 'a string' && typeof data !== 'object' ? ' (put the value in quotes to keep it a string)' : '';
  return `must be ${wanted}, not ${actual}${quote}`;
}

function rangeMessage(schema: SchemaObject): string {
  const noun = schema['type'] === 'integer' ? 'an integer' : 'a number';
  const min = schema['minimum'];
  const max = schema['maximum'];
  if (typeof min === 'number' && typeof max === 'number') return `must be ${noun} from ${min} to ${max}`;
  if (typeof min === 'number') return `must be ${noun} of at least ${min}`;
  if (typeof max === 'number') return `must be ${noun} of at most ${max}`;
  const exclusiveMin = schema['exclusiveMinimum'];
  if (typeof exclusiveMin === 'number') return `must be ${noun} greater than ${exclusiveMin}`;
  return `must be ${noun} in range`;
}

interface Mapped {
  readonly at: FileLocation;
  readonly message: string;
  readonly hint: string | undefined;
}

function prefixed(pointer: Pointer, text: string): string {
  const path = dottedPath(pointer);
  return path === '' ? text : `${path}: ${text}`;
}

function mapError(error: ErrorObject, doc: YamlFile): Mapped | undefined {
  const parent = schemaObject(error.parentSchema);
  const path = error.instancePath;
  const custom = xError(parent);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'if':
      // Always accompanied by the failing `then` keywords, which say what is wrong.
      return undefined;
    case 'required': {
      const missing = String(params['missingProperty']);
      const fieldSchema = schemaObject(schemaObject(parent['properties'])[missing]);
      return {
        at: doc.has(path) && path !== '' ? doc.keyAt(path) : doc.at(path),
        message: prefixed(path, `missing required field \`${missing}\``),
        hint: custom ?? description(fieldSchema) ?? `Add \`${missing}:\` here.`,
      };
    }
    case 'additionalProperties': {
      const unknown = String(params['additionalProperty']);
      const known = Object.keys(schemaObject(parent['properties']));
      const suggestion = closestMatch(unknown, known);
      const childPath = `${path}/${unknown.replaceAll('~', '~0').replaceAll('/', '~1')}`;
      return {
        at: doc.keyAt(childPath),
        message: prefixed(path, `unknown field \`${unknown}\``),
        hint:
          suggestion !== undefined
            ? `Did you mean \`${suggestion}\`?`
            : known.length > 0
              ? `Known fields here: ${known.join(', ')}.`
              : 'Remove it.',
      };
    }
    case 'propertyNames': {
      const name = String(params['propertyName']);
      const childPath = `${path}/${name.replaceAll('~', '~0').replaceAll('/', '~1')}`;
      const names = schemaObject(parent['propertyNames']);
      return {
        at: doc.keyAt(childPath),
        message: prefixed(path, `\`${name}\` ${xError(names) ?? 'is not an allowed name'}`),
        hint: description(names),
      };
    }
    case 'type':
      return { at: doc.at(path), message: prefixed(path, typeMessage(params['type'], error.data)), hint: description(parent) };
    case 'not':
    case 'false schema':
      return { at: doc.keyAt(path), message: prefixed(path, custom ?? 'is not allowed here'), hint: 'Remove this field.' };
    case 'uniqueItems': {
      const index = Math.max(Number(params['i']), Number(params['j']));
      const itemPath = `${path}/${index}`;
      return {
        at: doc.at(itemPath),
        message: prefixed(itemPath, `repeats an earlier entry (${dottedPath(`${path}/${Math.min(Number(params['i']), Number(params['j']))}`)})`),
        hint: 'List each value once.',
      };
    }
    default:
      break;
  }
  let text: string;
  switch (error.keyword) {
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      text = custom ?? rangeMessage(parent);
      break;
    case 'enum':
      text = custom ?? `must be one of ${(params['allowedValues'] as unknown[]).map((value) => String(value)).join(', ')}`;
      break;
    case 'const':
      text = custom ?? `must be ${String(params['allowedValue'])}`;
      break;
    case 'minLength':
      text = custom ?? (params['limit'] === 1 ? 'must not be empty' : `must be at least ${String(params['limit'])} characters long`);
      break;
    case 'maxLength':
      text = `must be at most ${String(params['limit'])} characters long`;
      break;
    case 'minItems':
      text = custom ?? `must list at least ${String(params['limit'])} ${params['limit'] === 1 ? 'entry' : 'entries'}`;
      break;
    case 'maxItems':
      text = `must list at most ${String(params['limit'])} entries`;
      break;
    case 'pattern':
      text = custom ?? `must match the pattern ${String(params['pattern'])}`;
      break;
    case 'format':
      text = custom ?? `must be a valid ${String(params['format'])}`;
      break;
    default:
      text = custom ?? error.message ?? `fails the ${error.keyword} rule`;
  }
  return { at: doc.at(path), message: prefixed(path, text), hint: description(parent) };
}

interface Suppression {
  readonly instancePath: Pointer;
  readonly schemaPath: string;
}

function isWithin(error: ErrorObject, suppression: Suppression): boolean {
  const samePlace = error.instancePath === suppression.instancePath || error.instancePath.startsWith(`${suppression.instancePath}/`);
  return samePlace && error.schemaPath.startsWith(`${suppression.schemaPath}/`);
}

/**
 * Keeps the errors that say something: for an anyOf, only the errors of the branch whose type matches
 * the value (a list command reports its bad item, not "must match a schema in anyOf"), or the anyOf's
 * own x-error when no single branch fits; for propertyNames, the error that names the key.
 */
function selectErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  const suppressions: Suppression[] = [];
  const dropped = new Set<ErrorObject>();
  for (const error of errors) {
    if (error.keyword === 'propertyNames') {
      suppressions.push({ instancePath: error.instancePath, schemaPath: error.schemaPath });
      continue;
    }
    if (error.keyword !== 'anyOf' && error.keyword !== 'oneOf') continue;
    const branches = (schemaObject(error.parentSchema)[error.keyword] as unknown[] | undefined) ?? [];
    const dataType = jsonType(error.data);
    const matching = branches.flatMap((branch, index) => (branchAccepts(schemaObject(branch), dataType) ? [index] : []));
    if (matching.length === 1) {
      dropped.add(error);
      branches.forEach((_, index) => {
        if (index !== matching[0]) suppressions.push({ instancePath: error.instancePath, schemaPath: `${error.schemaPath}/${index}` });
      });
    } else {
      suppressions.push({ instancePath: error.instancePath, schemaPath: error.schemaPath });
    }
  }
  return errors.filter((error) => !dropped.has(error) && !suppressions.some((suppression) => isWithin(error, suppression)));
}

export function validateAgainstSchema(name: SchemaName, doc: YamlFile): Issue[] {
  const validate = validator(name);
  if (validate(doc.value)) return [];
  const issues: Issue[] = [];
  const seen = new Set<string>();
  for (const error of selectErrors(validate.errors ?? [])) {
    const mapped = mapError(error, doc);
    if (mapped === undefined) continue;
    const key = `${mapped.at.line}:${mapped.at.col}:${mapped.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(specIssue(xCode(schemaObject(error.parentSchema)) ?? 'E_SCHEMA', mapped.at, mapped.message, mapped.hint));
  }
  return issues;
}
