import { asTendError, type TendError } from '../errors/index.js';
import { closestMatch } from '../spec/index.js';
import { EXIT_USAGE, type Command, type Terminal } from './command.js';
import { parseCommandLine } from './command-line.js';
import { errorJson, formatError } from './error-report.js';
import { commandHelp, programHelp } from './help-text.js';
import { processTerminal } from './process-terminal.js';
import { UsageError } from './usage-error.js';
import { commands, type CommandEntry } from './commands.js';

/** Exit code of a failure that is not the command's own verdict (tend's bug, an unexpected error). */
const EXIT_FAILURE = 1;

function findCommand(name: string): CommandEntry | undefined {
  return commands.find((command) => command.name === name);
}

export async function main(argv: readonly string[], terminal: Terminal = processTerminal()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' && rest[0] !== undefined ? findCommand(rest[0]) : undefined;
    terminal.out(topic === undefined ? programHelp(commands) : commandHelp(await topic.load(), topic.summary));
    return name === undefined ? EXIT_USAGE : 0;
  }
  if (name === '--version' || name === '-V') {
    // This one file, not observability's index, so `--version` loads neither pino nor prom-client.
    const { packageVersion } = await import('../observability/build-info.js');
    terminal.out(`${await packageVersion()}\n`);
    return 0;
  }
  const entry = findCommand(name);
  if (entry === undefined) {
    const meant = closestMatch(name, commands.map((entry) => entry.name));
    const what = name.startsWith('-') ? 'option' : 'command';
    const hint = `${meant === undefined ? '' : `Did you mean \`tend ${meant}\`? `}Run \`tend --help\` to list the commands.`;
    terminal.err(formatError(new UsageError(`unknown ${what} "${name}"`, hint), false));
    return EXIT_USAGE;
  }
  return runCommand(entry, await entry.load(), rest, terminal);
}

async function runCommand(entry: CommandEntry, command: Command, args: readonly string[], terminal: Terminal): Promise<number> {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(command, args);
  } catch (thrown) {
    // The line could not be read, so neither can --json on it: the error goes to a person, on stderr.
    terminal.err(usageReport(command, asTendError(thrown)));
    return command.usageExitCode;
  }
  if (parsed.values['help'] === true) {
    terminal.out(commandHelp(command, entry.summary));
    return 0;
  }
  const json = parsed.values['json'] === true;
  try {
    return await command.run({ terminal, ...parsed });
  } catch (thrown) {
    const error = asTendError(thrown);
    if (json) terminal.out(`${JSON.stringify({ ok: false, error: errorJson(error) }, null, 2)}\n`);
    else if (error instanceof UsageError) terminal.err(usageReport(command, error));
    else terminal.err(formatError(error, terminal.env['TEND_DEBUG'] === '1'));
    if (error instanceof UsageError) return command.usageExitCode;
    return EXIT_FAILURE;
  }
}

function usageReport(command: Command, error: TendError): string {
  return `${formatError(error, false)}usage: ${command.usage}\n`;
}
