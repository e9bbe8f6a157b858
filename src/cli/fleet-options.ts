import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { TendError } from '../errors/index.js';
import { openFleet, type SshPool } from '../hosts/index.js';
import { directorySecretSource, SECRETS_DIR_ENV, type SecretSource } from '../render/index.js';
import type { RepoReader } from '../spec/index.js';
import type { RepoSettings } from '../spec/model.js';
import { preparePass, sshFleet, type PreparedPass } from '../pass/index.js';
import type { CommandContext, OptionSpec } from './command.js';
import { loadValidRepo } from './issue-report.js';
import { resolveRepoArgument, type RepoArgument } from './repo-argument.js';

/** Options of every command that talks to hosts. */
export const fleetOptions: Readonly<Record<string, OptionSpec>> = {
  repo: { type: 'string', description: 'The deploy repo directory (default: the current directory).', valueName: 'DIR' },
  'ssh-key': { type: 'string', description: 'Private key for SSH (default: $TEND_SSH_KEY, else ~/.ssh/id_ed25519).', valueName: 'FILE' },
  'known-hosts': { type: 'string', description: 'known_hosts file for hosts without a pinned host_key in the inventory.', valueName: 'FILE' },
  'secrets-dir': { type: 'string', description: `Directory with one file per secret (default: $${SECRETS_DIR_ENV}).`, valueName: 'DIR' },
  json: { type: 'boolean', description: 'Print the result as JSON for scripts.' },
};

function stringOption(context: CommandContext, name: string): string | undefined {
  const value = context.values[name];
  return typeof value === 'string' ? value : undefined;
}

function secretSourceOf(context: CommandContext): SecretSource | undefined {
  const dir = stringOption(context, 'secrets-dir') ?? context.terminal.env[SECRETS_DIR_ENV];
  return dir === undefined || dir === '' ? undefined : directorySecretSource(path.resolve(context.terminal.cwd, dir));
}

function sshPoolOf(context: CommandContext, settings: RepoSettings): SshPool {
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
}

/**
 * The first half of plan and apply: load the repo (an invalid one is reported and ends the command),
 * read secrets, connect, observe and plan; `act` gets the result, and the connections are closed after.
 */
export async function withFleetSession(context: CommandContext, act: (session: FleetSession) => Promise<number>): Promise<number> {
  const { terminal, values } = context;
  const repo = await resolveRepoArgument(stringOption(context, 'repo'), terminal.cwd);
  const loaded = await loadValidRepo(terminal, repo, values['json'] === true);
  if (!loaded.ok) return loaded.exitCode;
  const pool = sshPoolOf(context, loaded.spec.settings);
  try {
    const pass = await preparePass(loaded.spec, secretSourceOf(context), sshFleet(pool));
    return await act({ repo, reader: loaded.reader, pass, pool });
  } finally {
    await pool.close();
  }
}
