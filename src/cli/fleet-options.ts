import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { TendError } from '../errors/index.js';
import { openFleet, type SshPool } from '../hosts/index.js';
import { directorySecretSource, SECRETS_DIR_ENV, type SecretSource } from '../render/index.js';
import type { RepoReader } from '../spec/index.js';
import type { RepoSettings } from '../spec/model.js';
import { describeUnknownNames, preparePass, resolveLimit, skippedByLimit, splitLimit, sshFleet, type PreparedPass, type SkippedService } from '../pass/index.js';
import type { CommandContext, OptionSpec } from './command.js';
import { loadValidRepo } from './issue-report.js';
import { resolveRepoArgument, type RepoArgument } from './repo-argument.js';
import { UsageError } from './usage-error.js';

/** How every command that talks to hosts finds the repo and reaches the hosts. */
export const connectionOptions: Readonly<Record<string, OptionSpec>> = {
  repo: { type: 'string', description: 'The deploy repo directory (default: the current directory).', valueName: 'DIR' },
  'ssh-key': { type: 'string', description: 'Private key for SSH (default: $TEND_SSH_KEY, else ~/.ssh/id_ed25519).', valueName: 'FILE' },
  'known-hosts': { type: 'string', description: 'known_hosts file for hosts without a pinned host_key in the inventory.', valueName: 'FILE' },
};

/** Options of plan and apply. */
export const fleetOptions: Readonly<Record<string, OptionSpec>> = {
  ...connectionOptions,
  'secrets-dir': { type: 'string', description: `Directory with one file per secret (default: $${SECRETS_DIR_ENV}).`, valueName: 'DIR' },
  limit: {
    type: 'string',
    description: 'Only these hosts (a group means its hosts), comma-separated; the rest is untouched and reported as skipped.',
    valueName: 'HOST|GROUP,...',
  },
  json: { type: 'boolean', description: 'Print the result as JSON for scripts.' },
};

export function stringOption(context: CommandContext, name: string): string | undefined {
  const value = context.values[name];
  return typeof value === 'string' ? value : undefined;
}

function secretSourceOf(context: CommandContext): SecretSource | undefined {
  const dir = stringOption(context, 'secrets-dir') ?? context.terminal.env[SECRETS_DIR_ENV];
  return dir === undefined || dir === '' ? undefined : directorySecretSource(path.resolve(context.terminal.cwd, dir));
}

/** The pool of a command that talks to hosts: --ssh-key (or $TEND_SSH_KEY), --known-hosts, the repo's concurrency. */
export function sshPoolOf(context: CommandContext, settings: RepoSettings): SshPool {
  const given = stringOption(context, 'ssh-key') ?? context.terminal.env['TEND_SSH_KEY'];
  const privateKeyPath = path.resolve(context.terminal.cwd, given ?? path.join(homedir(), '.ssh', 'id_ed25519'));
  if (!existsSync(privateKeyPath)) {
    throw new TendError('E_SSH_KEY', 'conflict', `no SSH private key at ${privateKeyPath}`, {
      hint: 'Pass --ssh-key FILE or set TEND_SSH_KEY to the key the hosts\' users authorise.',
    });
  }
  const knownHostsPath = stringOption(context, 'known-hosts');
  return openFleet({
    privateKeyPath,
    ...(knownHostsPath === undefined ? {} : { knownHostsPath: path.resolve(context.terminal.cwd, knownHostsPath) }),
    concurrency: settings.concurrency,
  });
}

export interface FleetSession {
  readonly repo: RepoArgument;
  /** How the commit was read; artifacts are read through it too, never around it. */
  readonly reader: RepoReader;
  readonly pass: PreparedPass;
  readonly pool: SshPool;
  /** Where secrets come from: the env files' and a private artifact store's credentials. */
  readonly secrets: SecretSource | undefined;
  /** Placements the named services and --limit leave out: untouched, and reported as skipped. */
  readonly skipped: readonly SkippedService[];
}

/**
 * The first half of plan and apply: load the repo (an invalid one is reported and ends the command),
 * resolve the named services and --limit (an unknown name is a usage error, before any host is contacted),
 * read secrets, connect, observe and plan; `act` gets the result, and the connections are closed after.
 * With a limit only the limited hosts are observed, and nothing is pruned.
 */
export async function withFleetSession(context: CommandContext, act: (session: FleetSession) => Promise<number>): Promise<number> {
  const { terminal, values } = context;
  const repo = await resolveRepoArgument(stringOption(context, 'repo'), terminal.cwd);
  const loaded = await loadValidRepo(terminal, repo, values['json'] === true);
  if (!loaded.ok) return loaded.exitCode;
  const limitText = stringOption(context, 'limit');
  const limitNames = limitText === undefined ? undefined : splitLimit(limitText);
  if (limitNames !== undefined && limitNames.length === 0) {
    throw new UsageError('--limit names no host or group', 'For example `--limit web-1,batch`: hosts and groups of inventory.yml.');
  }
  const resolved = resolveLimit(loaded.spec, context.positionals, limitNames);
  if (!resolved.ok) {
    const kinds = new Set(resolved.unknown.map((name) => name.kind));
    const lists = [
      ...(kinds.has('service') ? [`Services: ${someNames(loaded.spec.services.map((service) => service.name))}.`] : []),
      ...(kinds.has('host or group') ? [`Hosts: ${someNames(loaded.spec.inventory.hosts.map((host) => host.name))}; groups: ${someNames([...loaded.spec.inventory.groups.keys()])}.`] : []),
    ];
    throw new UsageError(describeUnknownNames(resolved.unknown), lists.join(' '));
  }
  const { limit } = resolved;
  const pool = sshPoolOf(context, loaded.spec.settings);
  try {
    const secrets = secretSourceOf(context);
    const pass = await preparePass(loaded.spec, secrets, sshFleet(pool), undefined, limit.services, limit.hosts);
    return await act({ repo, reader: loaded.reader, pass, pool, secrets, skipped: skippedByLimit(loaded.spec, limit) });
  } finally {
    await pool.close();
  }
}

/** A hint lists names, but not 2,000 of them. */
function someNames(names: readonly string[]): string {
  const shown = 20;
  if (names.length === 0) return '(none)';
  return names.length <= shown ? names.join(', ') : `${names.slice(0, shown).join(', ')} and ${names.length - shown} more`;
}
