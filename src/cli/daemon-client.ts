import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { TendError } from '../errors/index.js';
import type { CommandContext, OptionSpec } from './command.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:9464';
export const DEFAULT_TOKEN_FILE = '/var/lib/tend/api-token';

/** Options of the commands that talk to a running `tend run`. */
export const serverOptions: Readonly<Record<string, OptionSpec>> = {
  server: { type: 'string', description: `Address of the running daemon (default: $TEND_SERVER, else ${DEFAULT_SERVER}).`, valueName: 'URL' },
  json: { type: 'boolean', description: 'Print the answer as JSON for scripts.' },
};

export const tokenOption: Readonly<Record<string, OptionSpec>> = {
  'token-file': {
    type: 'string',
    description: `File with the daemon's operator token (default: $TEND_TOKEN_FILE, else ${DEFAULT_TOKEN_FILE}; the daemon writes it to its state directory).`,
    valueName: 'FILE',
  },
};

function serverOf(context: CommandContext, option: string): string {
  const given = context.values[option];
  return typeof given === 'string' ? given : (context.terminal.env['TEND_SERVER'] ?? DEFAULT_SERVER);
}

async function tokenOf(context: CommandContext): Promise<string> {
  const given = context.values['token-file'];
  const file = path.resolve(context.terminal.cwd, typeof given === 'string' ? given : (context.terminal.env['TEND_TOKEN_FILE'] ?? DEFAULT_TOKEN_FILE));
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    throw new TendError('E_TOKEN_UNREADABLE', 'conflict', `cannot read the operator token at ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
      hint: 'Run as the user tend runs as (or root), or pass --token-file with the api-token from tend\'s state directory.',
    });
  }
}

export interface DaemonCallOptions {
  /** The option that names the daemon's URL: `server`, or `daemon` for `tend plan --daemon`. */
  readonly serverOption?: string;
  /** A plan observes hosts, which takes longer than reading status. */
  readonly timeoutMs?: number;
}

/** One request to the daemon; an unreachable daemon is its own error so scripts can tell it from a failure. */
export async function callDaemon(
  context: CommandContext,
  method: 'GET' | 'POST',
  route: string,
  withToken: boolean,
  options: DaemonCallOptions = {},
): Promise<{ status: number; body: unknown }> {
  const server = serverOf(context, options.serverOption ?? 'server');
  const headers: Record<string, string> = {};
  if (withToken) headers['authorization'] = `Bearer ${await tokenOf(context)}`;
  let response: Response;
  try {
    response = await fetch(new URL(route, server), { method, headers, signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) });
  } catch (error) {
    throw new TendError('E_DAEMON_UNREACHABLE', 'transient', `no tend daemon answers at ${server}: ${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)}`, {
      hint: 'Is `tend run` running (systemctl status tend)? Pass --server if it listens elsewhere.',
    });
  }
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as unknown };
  } catch {
    throw new TendError('E_DAEMON_ANSWER', 'internal', `the daemon at ${server} answered ${response.status} with something that is not JSON`);
  }
}
