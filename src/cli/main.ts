import { parseArgs } from 'node:util';
import { asTendError } from '../errors/index.js';
import { EXIT_USAGE, type Command, type Terminal } from './command.js';
import { errorJson, formatError } from './error-report.js';
import { commandHelp, programHelp } from './help-text.js';
import { UsageError } from './usage-error.js';
import { commands, type CommandEntry } from './commands.js';

/** Exit code of a failure that is not the command's own verdict (tend's bug, an unexpected error). */
const EXIT_FAILURE = 1;

function processTerminal(): Terminal {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    isTTY: process.stdout.isTTY === true,
    env: process.env,
    cwd: process.cwd(),
  };
}

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
    terminal.err(formatError(new UsageError(`unknown command "${name}"`, 'Run `tend --help` to list the commands.'), false));
    return EXIT_USAGE;
  }
  return runCommand(entry, await entry.load(), rest, terminal);
}

async function runCommand(entry: CommandEntry, command: Command, args: readonly string[], terminal: Terminal): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    terminal.err(`error: ${message} (E_USAGE)\nusage: ${command.usage}\n  hint: run \`tend ${command.name} --help\`.\n`);
    return EXIT_USAGE;
  }
  if (parsed.values['help'] === true) {
    terminal.out(commandHelp(command, entry.summary));
    return 0;
  }
  if (parsed.positionals.length > command.maxPositionals) {
    terminal.err(`error: too many arguments (E_USAGE)\nusage: ${command.usage}\n`);
    return EXIT_USAGE;
  }
  const json = parsed.values['json'] === true;
  try {
    return await command.run({ terminal, values: parsed.values, positionals: parsed.positionals });
  } catch (thrown) {
    const error = asTendError(thrown);
    if (json) terminal.out(`${JSON.stringify({ ok: false, error: errorJson(error) }, null, 2)}\n`);
    else terminal.err(formatError(error, terminal.env['TEND_DEBUG'] === '1'));
    if (error instanceof UsageError) return EXIT_USAGE;
    return EXIT_FAILURE;
  }
}
