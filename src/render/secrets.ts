import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TendError, type FileLocation } from '../errors/index.js';
import type { ServiceSpec, SourceRef } from '../spec/model.js';

/**
 * Secrets are `{{ name }}` references in a spec's environment, resolved on the reconciler's machine and
 * never committed. Rendering takes a resolver; which one decides whether the env file holds real values
 * (`resolved`, only for apply) or `<secret:name>` placeholders (`masked`, for `tend render` and plans).
 * The mode is carried in the type of everything rendered with it, so code that writes to a host can
 * demand `'resolved'` and a masked render cannot reach it.
 */
export type SecretMode = 'masked' | 'resolved';

export interface SecretResolver<M extends SecretMode = SecretMode> {
  readonly mode: M;
  /** The value of secret `name`; `where` is the env line that refers to it, for the error. */
  resolve(name: string, where: SourceRef): string;
}

export function maskedSecretText(name: string): string {
  return `<secret:${name}>`;
}

/** For display: never reads a secret, so `tend render` and plans work on any machine. */
export const maskedSecrets: SecretResolver<'masked'> = {
  mode: 'masked',
  resolve: (name) => maskedSecretText(name),
};

/** One reference to a secret, with the spec line that makes it, so errors point at the spec. */
export interface SecretRef {
  readonly name: string;
  readonly where: SourceRef;
}

/**
 * Every secret a service's env file needs, and the credentials of a private artifact store (run.credentials),
 * first reference of each name, sorted by name: all of them are read before any host is touched.
 */
export function secretRefs(services: readonly ServiceSpec[]): SecretRef[] {
  const byName = new Map<string, SecretRef>();
  for (const service of services) {
    const credentials = service.run.kind === 'url' ? service.run.credentials : undefined;
    if (credentials !== undefined && !byName.has(credentials.secret)) byName.set(credentials.secret, { name: credentials.secret, where: credentials.where });
    for (const variable of service.environment) {
      for (const part of variable.parts) {
        if (part.kind === 'secret' && !byName.has(part.name)) byName.set(part.name, { name: part.name, where: variable.source });
      }
    }
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export const SECRETS_DIR_ENV = 'TEND_SECRETS_DIR';

const PROVIDE_HINT =
  `Put each secret in its own file, named after the secret, in the directory named by ${SECRETS_DIR_ENV} ` +
  `(one trailing newline is ignored), for example: printf '%s' "$VALUE" > "$${SECRETS_DIR_ENV}/<name>"; chmod 600 it.`;

function location(where: SourceRef): FileLocation {
  return { file: where.file, line: where.line, col: where.col };
}

/** The apply-time error: names the secrets and the spec lines, never a value. */
export function secretMissingError(missing: readonly SecretRef[], sourceDescription: string): TendError {
  const names = missing.map((ref) => ref.name).join(', ');
  const first = missing[0];
  return new TendError(
    'E_SECRET_MISSING',
    'invalid',
    `secret${missing.length === 1 ? '' : 's'} ${names} not found in ${sourceDescription}`,
    { hint: PROVIDE_HINT, ...(first === undefined ? {} : { where: location(first.where) }) },
  );
}

/** Where secret values come from on the reconciler's machine. An effect, so it is an interface. */
export interface SecretSource {
  /** For messages: `secrets directory /etc/tend/secrets`. Never includes a value. */
  readonly description: string;
  /** The value, or undefined when the source has no such secret. */
  read(name: string): Promise<string | undefined>;
}

/** A secret name that is also a safe file name: no `/`, no leading dot, so `..` cannot escape the dir. */
const SECRET_FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/**
 * `<dir>/<name>` holds secret `name`. One trailing newline is dropped because `echo value > file` and
 * editors add one; any other whitespace is part of the value.
 */
export function directorySecretSource(dir: string): SecretSource {
  return {
    description: `secrets directory ${dir}`,
    async read(name) {
      if (!SECRET_FILE_NAME.test(name)) {
        throw new TendError('E_SECRET_NAME', 'invalid', `secret name ${JSON.stringify(name)} cannot be a file name in ${dir}`, {
          hint: 'Secret names are letters, digits, `_`, `.` and `-`, and do not start with a dot.',
        });
      }
      let text: string;
      try {
        text = await readFile(join(dir, name), 'utf8');
      } catch (error) {
        if (isNodeError(error) && (error.code === 'ENOENT' || error.code === 'ENOTDIR')) return undefined;
        throw new TendError('E_SECRET_UNREADABLE', 'invalid', `secret ${name} cannot be read from ${dir}`, {
          hint: `Check that the user running tend can read ${join(dir, name)}.`,
          cause: error,
        });
      }
      return text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text;
    },
  };
}

/** The directory source named by `TEND_SECRETS_DIR`, or undefined when it is not set. */
export function secretSourceFromEnv(env: NodeJS.ProcessEnv = process.env): SecretSource | undefined {
  const dir = env[SECRETS_DIR_ENV];
  return dir === undefined || dir === '' ? undefined : directorySecretSource(dir);
}

/** Same control characters the renderer refuses: a newline in a value would start a new env setting. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Reads every referenced secret once, up front, so apply fails before touching any host and the error
 * lists all missing names at once. The resolver it returns is synchronous and pure.
 */
export async function loadSecrets(
  source: SecretSource | undefined,
  refs: readonly SecretRef[],
): Promise<SecretResolver<'resolved'>> {
  const values = new Map<string, string>();
  const missing: SecretRef[] = [];
  for (const ref of refs) {
    const value = source === undefined ? undefined : await source.read(ref.name);
    if (value === undefined) {
      missing.push(ref);
      continue;
    }
    if (CONTROL.test(value)) {
      throw new TendError('E_SECRET_INVALID', 'invalid', `secret ${ref.name} contains a control character (a newline, tab, ...)`, {
        where: location(ref.where),
        hint: 'Env files hold one value per line: store the secret without newlines (base64-encode multi-line values).',
      });
    }
    values.set(ref.name, value);
  }
  if (missing.length > 0) throw secretMissingError(missing, source?.description ?? `the environment (${SECRETS_DIR_ENV} is not set)`);
  return resolvedSecrets(values, source?.description ?? 'no secret source');
}

/** A resolver over values already read; an unknown name is E_SECRET_MISSING, never an empty string. */
export function resolvedSecrets(values: ReadonlyMap<string, string>, description = 'the given secrets'): SecretResolver<'resolved'> {
  return {
    mode: 'resolved',
    resolve(name, where) {
      const value = values.get(name);
      if (value === undefined) throw secretMissingError([{ name, where }], description);
      return value;
    },
  };
}

function isNodeError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && 'code' in error;
}
