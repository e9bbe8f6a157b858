import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';

import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';

import { TendError, sortIssues } from '../errors/index.js';
import type { ErrorCode, FileLocation, Issue } from '../errors/index.js';
import type { GitHostProvider } from '../githost/index.js';
import type { RetryPolicy } from '../rollout/index.js';
import { checkRepositoryUrl } from '../source/index.js';
import { formatDuration, parseDuration, validateCron } from '../spec/index.js';
import { closestMatch } from '../spec/did-you-mean.js';
import { dottedPath } from '../spec/schema-validation.js';
import { parseYamlFile } from '../spec/yaml-document.js';
import type { Pointer, YamlFile } from '../spec/yaml-document.js';

/**
 * The configuration of `tend run`: a YAML file (default /etc/tend/config.yml) checked against
 * schemas/daemon-config.schema.json, which documents every field and its default, or the same fields
 * given as command-line flags. Either way every problem is returned as an issue, none is thrown.
 *
 * Issue codes beyond the YAML and schema ones of the spec loader (E_YAML..., E_SCHEMA): E_MISSING_FILE
 * and E_READ (the file), E_SOURCE (not exactly one of url/path, credentials for a local path),
 * E_GIT_URL and E_GIT_URL_CREDENTIALS (from the source module's URL check, plus plain http off loopback),
 * E_DURATION, E_CRON and E_LISTEN.
 */

export const DEFAULT_CONFIG_PATH = '/etc/tend/config.yml';

export type DaemonSource =
  | { readonly kind: 'url'; readonly url: string; readonly credentialsFile: string | undefined }
  | { readonly kind: 'path'; readonly path: string };

/** Everything `tend run` needs, resolved: durations in ms, paths absolute. */
export interface DaemonConfig {
  readonly source: DaemonSource;
  readonly branch: string;
  readonly stateDir: string;
  readonly secretsDir: string | undefined;
  readonly sshKey: string;
  readonly knownHosts: string | undefined;
  readonly pollIntervalMs: number;
  /** Share of the interval (0.1 for `10%`) by which each poll moves at random, so many tends do not poll in step. */
  readonly pollJitter: number;
  readonly resyncSchedule: string;
  /** Port 0 asks the system for a free port. */
  readonly listen: { readonly host: string; readonly port: number };
  readonly webhookSecretFile: string | undefined;
  /** Where incident messages go; undefined sends none. */
  readonly notifications: { readonly urlFile: string; readonly format: 'json' | 'slack'; readonly statusUrl: string | undefined; readonly reminderMs: number } | undefined;
  /** Where plans of pull requests and deploy results are published; undefined publishes nothing. */
  readonly githost: GitHostConfig | undefined;
  /** Move `refs/tend/healthy/<service>` on the git server to each commit a service is healthy at. */
  readonly healthyRefs: boolean;
  readonly retry: RetryPolicy;
  readonly shutdownGraceMs: number;
  /** Author and committer of revert commits. */
  readonly author: { readonly name: string; readonly email: string };
  /** Where the Prometheus file_sd target files of the loaded commit go; undefined writes none. */
  readonly monitoring: { readonly fileSdDir: string } | undefined;
  /** Several instances, one leader, coordinated by etcd; undefined: this instance alone acts. */
  readonly ha: HaConfig | undefined;
}

/** The API of each provider's public service; a Gitea is always self-hosted, so its URL must be given. */
const DEFAULT_API_URLS: Readonly<Record<GitHostProvider, string | undefined>> = { github: 'https://api.github.com', gitlab: 'https://gitlab.com/api/v4', gitea: undefined };

export interface GitHostConfig {
  readonly provider: GitHostProvider;
  readonly apiUrl: string;
  readonly repository: string;
  readonly tokenFile: string;
  readonly planForks: boolean;
  readonly statusUrl: string | undefined;
}

export interface HaConfig {
  readonly endpoints: readonly string[];
  readonly prefix: string;
  readonly credentials: { readonly caFile: string | undefined; readonly certFile: string | undefined; readonly keyFile: string | undefined; readonly user: string | undefined; readonly passwordFile: string | undefined } | undefined;
  readonly leaseTtlMs: number;
  /** undefined: the host name and the listen address. */
  readonly identity: string | undefined;
}

/** The fields as the YAML file writes them; also what `daemonConfigFrom` takes from command-line flags. */
export interface DaemonConfigInput {
  readonly source?: { readonly url?: string; readonly path?: string; readonly branch?: string; readonly credentials_file?: string };
  readonly state_dir?: string;
  readonly secrets_dir?: string;
  readonly ssh?: { readonly key?: string; readonly known_hosts?: string };
  readonly poll?: { readonly interval?: string; readonly jitter?: string };
  readonly resync?: { readonly schedule?: string };
  readonly listen?: string;
  readonly webhook?: { readonly secret_file?: string };
  readonly notifications?: { readonly url_file?: string; readonly format?: string; readonly status_url?: string; readonly reminder?: string };
  readonly githost?: { readonly provider?: string; readonly api_url?: string; readonly repository?: string; readonly token_file?: string; readonly plan_forks?: boolean; readonly status_url?: string };
  readonly healthy_refs?: boolean;
  readonly retry?: { readonly max_attempts?: number; readonly base_delay?: string; readonly max_delay?: string };
  readonly shutdown_grace?: string;
  readonly author?: { readonly name?: string; readonly email?: string };
  readonly monitoring?: { readonly file_sd_dir?: string };
  readonly ha?: {
    readonly etcd?: { readonly endpoints?: readonly string[]; readonly prefix?: string; readonly credentials?: { readonly ca_file?: string; readonly cert_file?: string; readonly key_file?: string; readonly user?: string; readonly password_file?: string } };
    readonly lease_ttl?: string;
    readonly identity?: string;
  };
}

/** Every setting but the source, which has no default. */
export type DaemonConfigDefaults = Omit<DaemonConfig, 'source'>;

export type DaemonConfigResult = { readonly ok: true; readonly config: DaemonConfig } | { readonly ok: false; readonly issues: Issue[] };

/**
 * The defaults as a person would write them; the schema's descriptions state the same values, and the
 * example systemd/tend.yml writes every one of them out (both checked by tests).
 */
const DEFAULTS = {
  branch: 'main',
  stateDir: '/var/lib/tend',
  sshKey: '/etc/tend/ssh/id_ed25519',
  pollInterval: '60s',
  pollJitter: '10%',
  resyncSchedule: '*/10 * * * *',
  listen: '127.0.0.1:9464',
  retryMaxAttempts: 5,
  retryBaseDelay: '1s',
  retryMaxDelay: '30s',
  shutdownGrace: '90s',
  authorName: 'tend',
  authorEmail: 'tend@localhost',
  haPrefix: '/tend',
  leaseTtl: '15s',
} as const;

/** etcd grants leases in whole seconds; below 3 s a renewal every third leaves no room for one lost. */
const MIN_LEASE_TTL_MS = 3_000;

const MIN_POLL_INTERVAL_MS = 1_000;
const DURATION_HINT = 'Write a whole number with a unit: `500ms`, `60s`, `5m`, `1h30m`.';

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (compiled === undefined) {
    // schemas/ sits two levels above this file both in src/daemon and in dist/daemon.
    const schema = JSON.parse(readFileSync(new URL('../../schemas/daemon-config.schema.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
    ajv.addKeyword({ keyword: 'x-error', schemaType: 'string' });
    compiled = ajv.compile(schema);
  }
  return compiled;
}

/**
 * Reads and checks the config file at `path`. Positions in issues are the file's; the file name is
 * `path` as given.
 */
export async function loadDaemonConfig(path: string): Promise<DaemonConfigResult> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    return {
      ok: false,
      issues: [
        {
          file: path,
          line: 1,
          col: 1,
          code: missing ? 'E_MISSING_FILE' : 'E_READ',
          message: missing ? 'the config file does not exist' : `the config file cannot be read: ${error instanceof Error ? error.message : String(error)}`,
          hint: missing
            ? 'Write one (systemd/tend.yml is an example with every default), or give the source with --repo-url or --repo-path.'
            : 'It must be readable by the user tend runs as.',
        },
      ],
    };
  }
  const parsed = parseYamlFile(path, bytes);
  if (!parsed.ok) return { ok: false, issues: sortIssues(parsed.issues) };
  return resolve(parsed.doc);
}

/**
 * The configuration from fields given some other way than a file, as command-line flags are: the same
 * checks and defaults as the file gets. Issues name `origin` at 1:1 and the field in their message.
 * Paths must already be absolute: resolve a relative flag against the working directory first.
 */
export function daemonConfigFrom(input: DaemonConfigInput, origin = 'command line'): DaemonConfigResult {
  // Flags not given arrive as `undefined` fields; the file form has no such thing.
  const value = JSON.parse(JSON.stringify(input)) as unknown;
  return resolve(plainDocument(origin, value));
}

/** A document without positions: every issue points at the start of `origin`. */
function plainDocument(origin: string, value: unknown): YamlFile {
  const start: FileLocation = { file: origin, line: 1, col: 1 };
  return {
    file: origin,
    value,
    has: (pointer) => lookup(value, pointer) !== undefined,
    at: () => start,
    keyAt: () => start,
    textAt: () => start,
  };
}

function lookup(root: unknown, pointer: Pointer): unknown {
  let current = root;
  for (const raw of pointer === '' ? [] : pointer.slice(1).split('/')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[raw.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  return current;
}

/**
 * Schema and value checks both run, so one attempt shows every problem; a field of the wrong type is
 * left to the schema's issue (its reader sees no string there and takes the default).
 */
function resolve(doc: YamlFile): DaemonConfigResult {
  const fields = new Fields(doc);
  const config: DaemonConfig = { source: fields.source(), ...settings(fields) };
  const issues = [...schemaIssues(doc), ...fields.issues];
  return issues.length > 0 ? { ok: false, issues: sortIssues(issues) } : { ok: true, config };
}

function settings(fields: Fields): Omit<DaemonConfig, 'source'> {
  return {
    branch: fields.string('/source/branch') ?? DEFAULTS.branch,
    stateDir: fields.string('/state_dir') ?? DEFAULTS.stateDir,
    secretsDir: fields.string('/secrets_dir'),
    sshKey: fields.string('/ssh/key') ?? DEFAULTS.sshKey,
    knownHosts: fields.string('/ssh/known_hosts'),
    pollIntervalMs: fields.duration('/poll/interval', DEFAULTS.pollInterval, MIN_POLL_INTERVAL_MS),
    pollJitter: Number((fields.string('/poll/jitter') ?? DEFAULTS.pollJitter).slice(0, -1)) / 100,
    resyncSchedule: fields.cron('/resync/schedule', DEFAULTS.resyncSchedule),
    listen: fields.listen('/listen', DEFAULTS.listen),
    webhookSecretFile: fields.string('/webhook/secret_file'),
    notifications: notificationsOf(fields),
    githost: fields.githost(),
    healthyRefs: lookup(fields.doc.value, '/healthy_refs') === true,
    retry: fields.retry(),
    shutdownGraceMs: fields.duration('/shutdown_grace', DEFAULTS.shutdownGrace, 0),
    author: { name: fields.string('/author/name') ?? DEFAULTS.authorName, email: fields.string('/author/email') ?? DEFAULTS.authorEmail },
    monitoring: monitoringOf(fields),
    ha: haOf(fields),
  };
}

function haOf(fields: Fields): HaConfig | undefined {
  if (!fields.doc.has('/ha')) return undefined;
  const endpoints = lookup(fields.doc.value, '/ha/etcd/endpoints');
  const leaseTtlMs = fields.duration('/ha/lease_ttl', DEFAULTS.leaseTtl, MIN_LEASE_TTL_MS);
  if (leaseTtlMs >= MIN_LEASE_TTL_MS && leaseTtlMs % 1_000 !== 0) {
    fields.add('E_DURATION', fields.doc.at('/ha/lease_ttl'), '/ha/lease_ttl', `${formatDuration(leaseTtlMs)} is not whole seconds`, 'etcd grants leases in whole seconds: write `15s`, `30s`, `1m`.');
  }
  const credentials = fields.doc.has('/ha/etcd/credentials')
    ? {
        caFile: fields.string('/ha/etcd/credentials/ca_file'),
        certFile: fields.string('/ha/etcd/credentials/cert_file'),
        keyFile: fields.string('/ha/etcd/credentials/key_file'),
        user: fields.string('/ha/etcd/credentials/user'),
        passwordFile: fields.string('/ha/etcd/credentials/password_file'),
      }
    : undefined;
  return {
    endpoints: Array.isArray(endpoints) ? endpoints.filter((one): one is string => typeof one === 'string') : [],
    prefix: fields.string('/ha/etcd/prefix') ?? DEFAULTS.haPrefix,
    credentials,
    leaseTtlMs,
    identity: fields.string('/ha/identity'),
  };
}

function monitoringOf(fields: Fields): DaemonConfig['monitoring'] {
  const fileSdDir = fields.string('/monitoring/file_sd_dir');
  return fileSdDir === undefined ? undefined : { fileSdDir };
}

function notificationsOf(fields: Fields): DaemonConfig['notifications'] {
  const urlFile = fields.string('/notifications/url_file');
  if (urlFile === undefined) return undefined;
  return {
    urlFile,
    format: fields.string('/notifications/format') === 'slack' ? 'slack' : 'json',
    statusUrl: fields.string('/notifications/status_url'),
    reminderMs: fields.duration('/notifications/reminder', '4h', 60_000),
  };
}

/** Reads fields of a document that passed the schema, collecting every semantic problem. */
class Fields {
  readonly issues: Issue[] = [];

  constructor(readonly doc: YamlFile) {}

  add(code: ErrorCode, at: FileLocation, pointer: Pointer, message: string, hint: string | undefined): void {
    const path = dottedPath(pointer);
    this.issues.push({ ...at, code, message: path === '' ? message : `${path}: ${message}`, ...(hint === undefined ? {} : { hint }) });
  }

  string(pointer: Pointer): string | undefined {
    const value = lookup(this.doc.value, pointer);
    return typeof value === 'string' ? value : undefined;
  }

  source(): DaemonSource {
    const url = this.string('/source/url');
    const path = this.string('/source/path');
    const credentialsFile = this.string('/source/credentials_file');
    if (url !== undefined && path !== undefined) {
      this.add('E_SOURCE', this.doc.keyAt('/source/path'), '/source', 'has both `url` and `path`; set exactly one', 'Use `url` for a git server, `path` for a repository on this machine.');
    } else if (url === undefined && path === undefined) {
      this.add('E_SOURCE', this.doc.has('/source') ? this.doc.keyAt('/source') : this.doc.at(''), '/source', 'needs `url` (a git server) or `path` (a repository on this machine)', undefined);
    }
    if (path !== undefined && credentialsFile !== undefined) {
      this.add('E_SOURCE', this.doc.keyAt('/source/credentials_file'), '/source/credentials_file', 'is only for a `url`; a local path is read directly', 'Remove it, or give the repository as `url`.');
    }
    if (url !== undefined) {
      this.checkUrl(url);
      return { kind: 'url', url, credentialsFile };
    }
    return { kind: 'path', path: path ?? '' };
  }

  private checkUrl(url: string): void {
    try {
      checkRepositoryUrl(url);
    } catch (error) {
      if (!(error instanceof TendError)) throw error;
      this.add(error.code, this.doc.at('/source/url'), '/source/url', error.message, error.hint);
      return;
    }
    const parsed = new URL(url);
    // Credentials and the commits tend deploys would cross the network unencrypted and unauthenticated.
    if (parsed.protocol === 'http:' && !isLoopback(parsed.hostname)) {
      this.add('E_GIT_URL', this.doc.at('/source/url'), '/source/url', `plain http:// to ${parsed.hostname} is refused; only a loopback address may use it`, 'Use the https:// clone URL of the repository.');
    }
  }

  duration(pointer: Pointer, fallback: string, minimumMs: number): number {
    const value = lookup(this.doc.value, pointer);
    if (typeof value === 'number') {
      this.add('E_DURATION', this.doc.at(pointer), pointer, `${value} has no unit`, `A bare number is ambiguous (seconds? milliseconds?). ${DURATION_HINT}`);
      return 0;
    }
    const text = typeof value === 'string' ? value : fallback;
    const ms = parseDuration(text);
    if (ms === undefined) {
      this.add('E_DURATION', this.doc.at(pointer), pointer, `\`${text}\` is not a duration`, DURATION_HINT);
      return 0;
    }
    if (ms < minimumMs) {
      this.add('E_DURATION', this.doc.at(pointer), pointer, minimumMs === 1 ? 'must be longer than 0' : `must be at least ${formatDuration(minimumMs)}`, DURATION_HINT);
    }
    return ms;
  }

  cron(pointer: Pointer, fallback: string): string {
    const text = this.string(pointer) ?? fallback;
    const checked = validateCron(text);
    if (!checked.ok) this.add('E_CRON', this.doc.at(pointer), pointer, checked.message, checked.hint);
    return text.trim();
  }

  listen(pointer: Pointer, fallback: string): { host: string; port: number } {
    const text = this.string(pointer) ?? fallback;
    const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
    const bracketed = match?.[1];
    const host = bracketed ?? match?.[2] ?? '';
    const port = Number(match?.[3] ?? Number.NaN);
    const hostOk = bracketed !== undefined ? isIP(bracketed) === 6 : isIP(host) === 4 || /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host);
    if (match === null || !hostOk || !(port >= 0 && port <= 65_535)) {
      this.add('E_LISTEN', this.doc.at(pointer), pointer, `\`${text}\` is not an address and port`, 'Write host:port, such as `127.0.0.1:9464`, `0.0.0.0:9464` or `[::1]:9464`.');
    }
    return { host, port };
  }

  githost(): GitHostConfig | undefined {
    if (lookup(this.doc.value, '/githost') === undefined) return undefined;
    const named = this.string('/githost/provider');
    const provider: GitHostProvider = named === 'gitea' || named === 'gitlab' ? named : 'github';
    const apiUrl = this.string('/githost/api_url') ?? DEFAULT_API_URLS[provider];
    if (apiUrl === undefined) {
      this.add('E_GITHOST_CONFIG', this.doc.keyAt('/githost'), '/githost', 'a gitea provider needs `api_url`', 'Give the API base of the Gitea, such as https://gitea.example.com/api/v1.');
    }
    const secretsDir = this.string('/secrets_dir');
    const tokenFile = this.string('/githost/token_file') ?? (secretsDir === undefined ? undefined : `${secretsDir.replace(/\/+$/, '')}/githost_token`);
    if (tokenFile === undefined) {
      this.add('E_GITHOST_CONFIG', this.doc.keyAt('/githost'), '/githost', 'needs `token_file`, or a `secrets_dir` holding githost_token', 'Put the API token in a file readable only by tend and name it here.');
    }
    const planForks = lookup(this.doc.value, '/githost/plan_forks');
    return {
      provider,
      apiUrl: apiUrl ?? '',
      repository: this.string('/githost/repository') ?? '',
      tokenFile: tokenFile ?? '',
      planForks: planForks === true,
      statusUrl: this.string('/githost/status_url'),
    };
  }

  retry(): RetryPolicy {
    const maxAttempts = lookup(this.doc.value, '/retry/max_attempts');
    const baseDelayMs = this.duration('/retry/base_delay', DEFAULTS.retryBaseDelay, 1);
    const maxDelayMs = this.duration('/retry/max_delay', DEFAULTS.retryMaxDelay, 1);
    if (maxDelayMs < baseDelayMs) {
      const pointer = this.doc.has('/retry/max_delay') ? '/retry/max_delay' : '/retry/base_delay';
      this.add('E_DURATION', this.doc.at(pointer), pointer, `max_delay ${formatDuration(maxDelayMs)} is shorter than base_delay ${formatDuration(baseDelayMs)}`, 'The longest wait must be at least as long as the first one.');
    }
    return { maxAttempts: typeof maxAttempts === 'number' ? maxAttempts : DEFAULTS.retryMaxAttempts, baseDelayMs, maxDelayMs };
  }
}

function isLoopback(hostname: string): boolean {
  const bare = hostname.replace(/^\[|\]$/g, '');
  return bare === 'localhost' || bare === '::1' || (isIP(bare) === 4 && bare.startsWith('127.'));
}

/**
 * ajv's errors as issues at the YAML position of the key or value, with did-you-mean for unknown keys.
 * src/spec's `validateAgainstSchema` does this for the deploy repo's schemas only (its SchemaName is a
 * closed list); until it takes this schema too, this is a smaller mapping for the keywords used here.
 */
function schemaIssues(doc: YamlFile): Issue[] {
  const validate = validator();
  if (validate(doc.value)) return [];
  return (validate.errors ?? []).map((error) => schemaIssue(error, doc));
}

const TYPE_NAMES: Readonly<Record<string, string>> = { string: 'a string', integer: 'an integer', object: 'a mapping' };

function schemaIssue(error: ErrorObject, doc: YamlFile): Issue {
  const parent = (error.parentSchema ?? {}) as Record<string, unknown>;
  const params = error.params as Record<string, unknown>;
  const path = error.instancePath;
  const prefix = path === '' ? '' : `${dottedPath(path)}: `;
  const custom = typeof parent['x-error'] === 'string' ? parent['x-error'] : undefined;
  const description = typeof parent['description'] === 'string' ? parent['description'] : undefined;
  const issue = (at: FileLocation, message: string, hint: string | undefined): Issue => ({ ...at, code: 'E_SCHEMA', message: `${prefix}${message}`, ...(hint === undefined ? {} : { hint }) });
  switch (error.keyword) {
    case 'additionalProperties': {
      const unknown = String(params['additionalProperty']);
      const known = Object.keys((parent['properties'] ?? {}) as Record<string, unknown>);
      const suggestion = closestMatch(unknown, known);
      const at = doc.keyAt(`${path}/${unknown.replaceAll('~', '~0').replaceAll('/', '~1')}`);
      return issue(at, `unknown field \`${unknown}\``, suggestion === undefined ? `Known fields here: ${known.join(', ')}.` : `Did you mean \`${suggestion}\`?`);
    }
    case 'required':
      return issue(path === '' ? doc.at('') : doc.keyAt(path), `missing required field \`${String(params['missingProperty'])}\``, undefined);
    case 'type': {
      const wanted = TYPE_NAMES[String(params['type'])] ?? String(params['type']);
      return issue(doc.at(path), error.data === null ? `is empty; it must be ${wanted}` : `must be ${wanted}`, description);
    }
    case 'minLength':
      return issue(doc.at(path), 'must not be empty', description);
    default:
      return issue(doc.at(path), custom ?? error.message ?? `fails the ${error.keyword} rule`, description);
  }
}

/** Read from DEFAULTS by the code that reads a file, so the two cannot disagree. */
export const defaultDaemonConfig: DaemonConfigDefaults = settings(new Fields(plainDocument('defaults', {})));
