import { existsSync } from 'node:fs';
import path from 'node:path';
import { crashPointFromEnv, DEFAULT_CONFIG_PATH, daemonConfigFrom, loadDaemonConfig, runDaemon, type DaemonConfig, type DaemonConfigInput } from '../daemon/index.js';
import { formatIssue } from '../errors/index.js';
import { createLogger } from '../observability/index.js';
import { EXIT_USAGE, type Command, type CommandContext, type OptionSpec } from './command.js';
import { EXIT_INVALID } from './issue-report.js';
import { UsageError } from './usage-error.js';

const EXIT_STOPPED = 0;

/** Flags that describe the daemon without a config file; each names its config-file field. */
const settingFlags: Readonly<Record<string, OptionSpec & { readonly field: string }>> = {
  'repo-url': { type: 'string', valueName: 'URL', field: 'source.url', description: 'Follow the deploy repo at this http(s) URL (no credentials in it).' },
  'repo-path': { type: 'string', valueName: 'DIR', field: 'source.path', description: 'Follow a git repository on this machine instead, watching its branch.' },
  branch: { type: 'string', valueName: 'NAME', field: 'source.branch', description: 'Branch to follow (default: main).' },
  'git-credentials': { type: 'string', valueName: 'FILE', field: 'source.credentials_file', description: 'File with `user:password` or a token for the git server.' },
  'state-dir': { type: 'string', valueName: 'DIR', field: 'state_dir', description: 'Journal, lock, clone and API token (default: /var/lib/tend).' },
  'secrets-dir': { type: 'string', valueName: 'DIR', field: 'secrets_dir', description: 'Directory with one file per secret.' },
  'ssh-key': { type: 'string', valueName: 'FILE', field: 'ssh.key', description: 'Private key for SSH (default: /etc/tend/ssh/id_ed25519).' },
  'known-hosts': { type: 'string', valueName: 'FILE', field: 'ssh.known_hosts', description: 'known_hosts for hosts without a pinned host_key.' },
  'poll-interval': { type: 'string', valueName: 'DURATION', field: 'poll.interval', description: 'How often to fetch (default: 60s, with 10% jitter).' },
  resync: { type: 'string', valueName: 'CRON', field: 'resync.schedule', description: 'Full resync schedule that catches drift (default: */10 * * * *).' },
  listen: { type: 'string', valueName: 'HOST:PORT', field: 'listen', description: 'Address of /status, /healthz and /hooks/git (default: 127.0.0.1:9464).' },
  'webhook-secret-file': { type: 'string', valueName: 'FILE', field: 'webhook.secret_file', description: 'Secret that signs POST /hooks/git.' },
  'notify-url-file': { type: 'string', valueName: 'FILE', field: 'notifications.url_file', description: 'File with the webhook URL incident messages go to.' },
  'notify-format': { type: 'string', valueName: 'FORMAT', field: 'notifications.format', description: 'json (default) or slack.' },
  'retry-base-delay': { type: 'string', valueName: 'DURATION', field: 'retry.base_delay', description: 'First backoff delay of a transient failure (default: 1s).' },
  'retry-max-delay': { type: 'string', valueName: 'DURATION', field: 'retry.max_delay', description: 'Longest backoff delay (default: 30s).' },
};

const PATH_FIELDS = new Set(['source.path', 'source.credentials_file', 'state_dir', 'secrets_dir', 'ssh.key', 'ssh.known_hosts', 'webhook.secret_file', 'notifications.url_file']);

export const runCommand: Command = {
  name: 'run',
  usage: 'tend run [--config FILE] [--check-config] | tend run --repo-url URL [--state-dir DIR] [...flags]',
  description:
    'The long-running daemon (see systemd/tend.service). It fetches the branch on a timer (with jitter), on a\n' +
    'signed POST /hooks/git, or when a local repo\'s branch moves; validates each new commit (an invalid one\n' +
    'touches no host and is shown with file:line:col); rolls it out host by host behind health probes; and\n' +
    'when a version fails because of the change, pushes a revert commit and rolls the hosts back. Errors no\n' +
    'retry can fix stall with a reason and a hint (`tend status`) instead of looping.\n\n' +
    `Settings come from --config (default ${DEFAULT_CONFIG_PATH}) or entirely from flags; every field is\n` +
    'documented in schemas/daemon-config.schema.json and systemd/tend.yml. SIGTERM finishes or abandons the\n' +
    'current host step within shutdown_grace and exits; a restarted tend resumes from its journal.',
  options: {
    config: { type: 'string', valueName: 'FILE', description: `Config file (default: ${DEFAULT_CONFIG_PATH} when no --repo-url/--repo-path is given).` },
    ...settingFlags,
    'check-config': { type: 'boolean', description: 'Validate the settings, print `config OK: ...` and exit, starting nothing (no lock, no listen, no fetch).' },
    'log-level': { type: 'string', valueName: 'LEVEL', description: 'debug, info (default), warn or error.' },
  },
  exitCodes: [
    [EXIT_STOPPED, 'stopped by SIGTERM or SIGINT, or --check-config found the settings valid'],
    [EXIT_INVALID, 'invalid configuration (every problem is printed), a `listen` address tend cannot bind (E_CONFIG_LISTEN), or the state directory is locked by another tend'],
    [EXIT_USAGE, 'usage error'],
  ],
  usageExitCode: EXIT_USAGE,
  maxPositionals: 0,
  async run(context) {
    const { terminal } = context;
    const loaded = await configOf(context);
    if (!loaded.ok) {
      for (const issue of loaded.issues) terminal.err(`${formatIssue(issue)}\n${issue.hint === undefined ? '' : `  hint: ${issue.hint}\n`}`);
      return EXIT_INVALID;
    }
    if (context.values['check-config'] === true) {
      terminal.out(`config OK: ${configSummary(loaded.config)}\n`);
      return EXIT_STOPPED;
    }
    const level = context.values['log-level'];
    const logger = createLogger(typeof level === 'string' ? { level } : {});
    const daemon = await runDaemon(loaded.config, logger, crashPointFromEnv(terminal.env));
    let stopping: Promise<void> | undefined;
    const stop = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'stopping');
      stopping ??= daemon.stop();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    try {
      await daemon.stopped;
    } finally {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
    }
    logger.info({}, 'tend stopped');
    return EXIT_STOPPED;
  },
};

/** One line an operator can compare with what they meant to configure. */
function configSummary(config: DaemonConfig): string {
  const source = config.source.kind === 'url' ? config.source.url : config.source.path;
  return `follows ${source} branch ${config.branch}, state in ${config.stateDir}, listens on ${config.listen.host}:${config.listen.port}`;
}

async function configOf(context: CommandContext): ReturnType<typeof loadDaemonConfig> {
  const { values, terminal } = context;
  const given = Object.keys(settingFlags).filter((flag) => typeof values[flag] === 'string');
  const configFlag = values['config'];
  if (typeof configFlag === 'string' && given.length > 0) {
    throw new UsageError(`--config cannot be combined with --${given[0]}`, 'Put every setting in the config file, or give them all as flags.');
  }
  if (given.length === 0) {
    const file = typeof configFlag === 'string' ? path.resolve(terminal.cwd, configFlag) : DEFAULT_CONFIG_PATH;
    if (typeof configFlag !== 'string' && !existsSync(file)) {
      throw new UsageError(`no ${DEFAULT_CONFIG_PATH}, and no --repo-url or --repo-path`, 'Write the config file (systemd/tend.yml is an example), or pass --repo-url URL.');
    }
    return loadDaemonConfig(file);
  }
  const input: Record<string, unknown> = {};
  for (const flag of given) {
    const { field } = settingFlags[flag] as { field: string };
    const raw = values[flag] as string;
    const value = PATH_FIELDS.has(field) ? path.resolve(terminal.cwd, raw) : raw;
    const [head, tail] = field.split('.') as [string, string | undefined];
    if (tail === undefined) input[head] = value;
    else input[head] = { ...(input[head] as Record<string, unknown> | undefined), [tail]: value };
  }
  return daemonConfigFrom(input as DaemonConfigInput);
}
