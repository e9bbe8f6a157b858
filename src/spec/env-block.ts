import type { Issue } from '../errors/index.js';
import { specIssue } from './issue-codes.js';
import type { EnvPart, EnvVar } from './model.js';
import type { Pointer, YamlFile } from './yaml-document.js';

/**
 * The article's `environments: |` block: one KEY=VALUE per line, blank lines and `#` comment lines
 * ignored. Every value ends up in an env file on the host, so the rules here are about what that file can
 * carry safely: identifier keys, no control characters, and `{{ name }}` secret references (and
 * `{{ host.name }}`, `{{ host.vars.<name> }}` host values) that are either well-formed or an error (a
 * typo must not ship the literal text `{{ db_pasword }}` to production).
 */

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SECRET_NAME = /^[a-z][a-z0-9_]*$/;
/** Names of inventory host vars; the same rule inventory.yml's `vars:` keys follow (build-inventory.ts). */
export const HOST_VAR_NAME = /^[a-z][a-z0-9_]*$/;
const HOST_VAR_PREFIX = 'host.vars.';
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** Keys that change how every program of the service is loaded or found; refused unless allowed. */
export const OVERRIDABLE_ENV_KEYS: ReadonlySet<string> = new Set(['PATH']);

function dangerReason(key: string): string | undefined {
  if (key.startsWith('LD_')) return `${key} changes how the dynamic loader links every program of the service`;
  if (key === 'PATH') return 'PATH replaces the search path systemd gives the service';
  return undefined;
}

export interface EnvBlockResult {
  readonly vars: readonly EnvVar[];
  readonly issues: readonly Issue[];
}

export function parseEnvBlock(text: string, doc: YamlFile, pointer: Pointer, allowed: ReadonlySet<string>): EnvBlockResult {
  const vars: EnvVar[] = [];
  const issues: Issue[] = [];
  const seen = new Map<string, number>();
  const lines = text.split('\n');
  for (const [index, rawLine] of lines.entries()) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const lineStart = line.length - line.trimStart().length;
    const at = (column: number) => doc.textAt(pointer, index, column);

    const equals = line.indexOf('=');
    if (equals === -1) {
      issues.push(specIssue('E_ENV_LINE', at(lineStart), `service.environments: line ${index + 1} is not KEY=VALUE`, 'Write one variable per line as KEY=VALUE; start a comment line with #.'));
      continue;
    }
    const key = line.slice(0, equals).trim();
    if (!KEY.test(key)) {
      const hint = key.startsWith('export ')
        ? 'Drop `export`: each line is KEY=VALUE.'
        : 'Keys are letters, digits and underscores, not starting with a digit (for example LOG_LEVEL).';
      issues.push(specIssue('E_ENV_KEY', at(lineStart), `service.environments: \`${key}\` is not a valid environment key`, hint));
      continue;
    }
    const danger = dangerReason(key);
    if (danger !== undefined && !(OVERRIDABLE_ENV_KEYS.has(key) && allowed.has(key))) {
      const hint = OVERRIDABLE_ENV_KEYS.has(key)
        ? `If the service really needs its own ${key}, add \`allow_env: [${key}]\` to the service.`
        : `tend refuses ${key} in a spec: set it inside the program's own start-up if it is truly needed.`;
      issues.push(specIssue('E_ENV_KEY', at(lineStart), `service.environments: ${key} is not allowed: ${danger}`, hint));
      continue;
    }
    const firstLine = seen.get(key);
    if (firstLine !== undefined) {
      issues.push(specIssue('E_ENV_DUPLICATE', at(lineStart), `service.environments: ${key} is set twice (first on line ${firstLine + 1})`, 'Keep one of the two lines.'));
      continue;
    }
    seen.set(key, index);

    const afterEquals = line.slice(equals + 1);
    let valueStart = equals + 1 + (afterEquals.length - afterEquals.trimStart().length);
    let value = afterEquals.trim();
    const first = value[0];
    if (value.length >= 2 && (first === '"' || first === "'") && value.endsWith(first)) {
      value = value.slice(1, -1);
      valueStart += 1;
    }

    const control = CONTROL.exec(value);
    if (control !== null) {
      const code = control[0].codePointAt(0) ?? 0;
      issues.push(
        specIssue(
          'E_ENV_VALUE',
          at(valueStart + control.index),
          `service.environments: the value of ${key} contains the control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`,
          'Environment values are one line of text; remove the character.',
        ),
      );
      continue;
    }

    const parsed = parseSecretParts(value);
    if (!parsed.ok) {
      issues.push(specIssue('E_ENV_SECRET', at(valueStart + parsed.column), `service.environments: ${parsed.message}`, parsed.hint));
      continue;
    }
    vars.push({ key, parts: parsed.parts, source: at(lineStart) });
  }
  return { vars, issues };
}

type SecretParse =
  | { readonly ok: true; readonly parts: readonly EnvPart[] }
  | { readonly ok: false; readonly column: number; readonly message: string; readonly hint: string };

/** `name` -> a secret, `host.name` -> the host's name, `host.vars.<var>` -> one of its vars; anything else is no reference. */
function referencePart(name: string): EnvPart | undefined {
  if (name === 'host.name') return { kind: 'host-name' };
  if (name.startsWith(HOST_VAR_PREFIX)) {
    const variable = name.slice(HOST_VAR_PREFIX.length);
    return HOST_VAR_NAME.test(variable) ? { kind: 'host-var', name: variable } : undefined;
  }
  return SECRET_NAME.test(name) ? { kind: 'secret', name } : undefined;
}

/** Splits a value into text and `{{ name }}` parts (secrets and host values). A lone `}}` is text; a `{{` must close and name a secret. */
export function parseSecretParts(value: string): SecretParse {
  const parts: EnvPart[] = [];
  let position = 0;
  for (;;) {
    const open = value.indexOf('{{', position);
    if (open === -1) break;
    const close = value.indexOf('}}', open + 2);
    if (close === -1) {
      return {
        ok: false,
        column: open,
        message: '`{{` opens a secret reference that is never closed with `}}`',
        hint: 'Write a secret as {{ name }}, for example {{ db_password }}.',
      };
    }
    const name = value.slice(open + 2, close).trim();
    const part = referencePart(name);
    if (part === undefined) {
      const hostRef = name.startsWith('host.');
      return {
        ok: false,
        column: open,
        message: `\`${value.slice(open, close + 2)}\` is not a valid ${hostRef ? 'host' : 'secret'} reference`,
        hint: hostRef
          ? 'A host value is {{ host.name }} or {{ host.vars.<name> }}, where <name> is a var of every host of the group in inventory.yml (lowercase letters, digits and _).'
          : 'Secret names are lowercase letters, digits and underscores, starting with a letter: {{ db_password }}.',
      };
    }
    if (open > position) parts.push({ kind: 'text', text: value.slice(position, open) });
    parts.push(part);
    position = close + 2;
  }
  if (position < value.length) parts.push({ kind: 'text', text: value.slice(position) });
  return { ok: true, parts };
}
