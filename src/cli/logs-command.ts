import { asTendError } from '../errors/index.js';
import { unitLogsArgv } from '../hosts/index.js';
import { unitName } from '../render/index.js';
import { closestMatch } from '../spec/index.js';
import { EXIT_USAGE, type Command } from './command.js';
import { formatError } from './error-report.js';
import { connectionOptions, sshPoolOf, stringOption } from './fleet-options.js';
import { EXIT_INVALID, loadValidRepo } from './issue-report.js';
import { HostLineMerger } from './log-lines.js';
import { resolveRepoArgument } from './repo-argument.js';
import { UsageError } from './usage-error.js';

const EXIT_SHOWN = 0;
/** A shell's code for "ended by SIGINT": Ctrl-C before every host's lines were read. */
const EXIT_INTERRUPTED = 130;
/** -f holds a connection per host for as long as it runs: all at once, so bounded. */
const MAX_FOLLOWED_HOSTS = 64;
/** The remote `timeout` of a follower: a forgotten `tend logs -f` does not run on the hosts for ever. */
const FOLLOW_TIMEOUT_MS = 24 * 60 * 60 * 1000;
const READ_TIMEOUT_MS = 10 * 60 * 1000;

export const logsCommand: Command = {
  name: 'logs',
  usage: 'tend logs SERVICE [--host HOST] [--since TIME] [-f] [--repo DIR] [--ssh-key FILE]',
  description:
    "Prints the systemd journal of SERVICE's unit from every host of its group (or one HOST) over SSH:\n" +
    '`journalctl -u <unit> --no-pager -o short-iso`, each line prefixed with its host. Hosts are read at\n' +
    "once, within tend.yml's `concurrency`. With -f it follows every host (at most 64; narrow with --host)\n" +
    'until Ctrl-C or until the reader of its output is gone (`| head`), either of which ends the command on\n' +
    'each host before tend exits. Touches nothing.',
  options: {
    host: { type: 'string', description: 'Only this host of the service.', valueName: 'HOST' },
    since: { type: 'string', description: "journalctl's --since: `1h ago`, `today`, `2026-12-03 10:00`.", valueName: 'TIME' },
    follow: { type: 'boolean', short: 'f', description: 'Follow the journals until Ctrl-C (or a closed output).' },
    ...connectionOptions,
  },
  exitCodes: [
    [EXIT_SHOWN, 'the lines were printed (with -f: followed until Ctrl-C or a closed output)'],
    [EXIT_INVALID, 'error: invalid repo, or a host whose journal could not be read (the others are printed)'],
    [EXIT_USAGE, 'usage error (an unknown service or host among them)'],
    [EXIT_INTERRUPTED, 'interrupted by Ctrl-C before every host was read (without -f)'],
  ],
  usageExitCode: EXIT_USAGE,
  maxPositionals: 1,
  async run(context) {
    const { terminal, values, positionals } = context;
    const [serviceName] = positionals;
    if (serviceName === undefined) throw new UsageError('name the service whose logs to show', 'For example `tend logs api --host web-1`.');
    const repo = await resolveRepoArgument(stringOption(context, 'repo'), terminal.cwd);
    const loaded = await loadValidRepo(terminal, repo, false);
    if (!loaded.ok) return loaded.exitCode;
    const { spec } = loaded;
    const service = spec.services.find((candidate) => candidate.name === serviceName);
    if (service === undefined) {
      const meant = closestMatch(serviceName, spec.services.map((candidate) => candidate.name));
      throw new UsageError(`unknown service "${serviceName}"${meant === undefined ? '' : ` (did you mean ${meant}?)`}`, 'The services are the folders under services/.');
    }
    const members = [...new Set(spec.inventory.groups.get(service.group) ?? [])];
    const wanted = stringOption(context, 'host');
    if (wanted !== undefined && !members.includes(wanted)) {
      const meant = closestMatch(wanted, members);
      throw new UsageError(
        `${serviceName} does not run on host "${wanted}"${meant === undefined ? '' : ` (did you mean ${meant}?)`}`,
        `Its group ${service.group} has: ${members.join(', ') || '(no hosts)'}.`,
      );
    }
    const hosts = spec.inventory.hosts.filter((host) => (wanted === undefined ? members.includes(host.name) : host.name === wanted));
    const follow = values['follow'] === true;
    if (follow && hosts.length > MAX_FOLLOWED_HOSTS) {
      throw new UsageError(`-f follows at most ${MAX_FOLLOWED_HOSTS} hosts at once; ${serviceName} runs on ${hosts.length}`, 'Pick one with --host.');
    }
    const argv = unitLogsArgv(unitName(service.name), { since: stringOption(context, 'since'), follow });
    const pool = sshPoolOf(context, spec.settings);
    // A follower never ends on its own: every host needs its slot at once, or the ones past the limit never start.
    if (follow) pool.setConcurrency(Math.max(1, hosts.length));
    const stop = new AbortController();
    // Ctrl-C, or the reader of the lines gone (`| head -1`): a follower would otherwise run for a day.
    const ended = AbortSignal.any([stop.signal, terminal.outClosed]);
    const onSignal = (): void => stop.abort();
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const merger = new HostLineMerger(hosts.map((host) => host.name), terminal.out);
    let failed = false;
    try {
      await Promise.all(
        hosts.map(async (host) => {
          try {
            await pool.run(host, argv, {
              sudo: true,
              timeoutMs: follow ? FOLLOW_TIMEOUT_MS : READ_TIMEOUT_MS,
              onStdout: (chunk) => merger.push(host.name, chunk),
              stopWhen: ended,
            });
          } catch (thrown) {
            // After Ctrl-C a host's command may end any way at all; that is the end asked for, not a failure.
            if (ended.aborted) return;
            failed = true;
            terminal.err(formatError(asTendError(thrown), false));
          } finally {
            merger.end(host.name);
          }
        }),
      );
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await pool.close();
    }
    if (failed) return EXIT_INVALID;
    return stop.signal.aborted && !follow ? EXIT_INTERRUPTED : EXIT_SHOWN;
  },
};
