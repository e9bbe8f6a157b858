import type { Command } from './command.js';

/**
 * Every command, in the order `tend --help` lists them, each loaded only when it runs: `tend plan` then
 * never loads the daemon's git, HTTP and metrics stacks, which cost ~25 MB of its peak RSS (bench/scale.ts).
 * The one-line summary lives here, not in the command's module, so `tend --help` lists every command
 * without loading any (it loaded them all, ssh2 and isomorphic-git included: 0.54 s against 0.38 s).
 */
export interface CommandEntry {
  readonly name: string;
  /** One line, shown in `tend --help` and atop `tend COMMAND --help`. */
  readonly summary: string;
  readonly load: () => Promise<Command>;
}

export const commands: readonly CommandEntry[] = [
  {
    name: 'validate',
    summary: 'Check a deploy repo: every file, every rule, all errors at once.',
    load: async () => (await import('./validate-command.js')).validateCommand,
  },
  {
    name: 'render',
    summary: 'Print the exact files tend would write for a service on its hosts.',
    load: async () => (await import('./render-command.js')).renderCommand,
  },
  {
    name: 'plan',
    summary: 'Show what an apply would change on every host, in order, with reasons.',
    load: async () => (await import('./plan-command.js')).planCommand,
  },
  {
    name: 'apply',
    summary: 'Carry out the plan: roll changes out host by host, gated by health probes.',
    load: async () => (await import('./apply-command.js')).applyCommand,
  },
  {
    name: 'logs',
    summary: "Print a service's journal from its hosts, each line prefixed with the host; -f follows.",
    load: async () => (await import('./logs-command.js')).logsCommand,
  },
  {
    name: 'run',
    summary: 'Run the reconciler: follow the deploy repo, roll out each commit, revert what breaks.',
    load: async () => (await import('./run-command.js')).runCommand,
  },
  {
    name: 'status',
    summary: 'Ask the running daemon what it is doing: per service state, reason, since when, what to do.',
    load: async () => (await import('./status-command.js')).statusCommand,
  },
  {
    name: 'history',
    summary: 'Ask the running daemon which rollouts it ran: commit, subject, author, result, failed hosts, revert.',
    load: async () => (await import('./history-command.js')).historyCommand,
  },
  {
    name: 'revert',
    summary: "Revert a commit on the current branch exactly as tend's rollback does, and optionally push it.",
    load: async () => (await import('./revert-command.js')).revertCommand,
  },
  {
    name: 'retry',
    summary: 'Clear a stall (conflict, failed rollback, exhausted retries) so the daemon tries again now.',
    load: async () => (await import('./operator-commands.js')).retryCommand,
  },
  {
    name: 'ack',
    summary: 'Acknowledge a rewritten history (force-push) so the daemon follows the new head.',
    load: async () => (await import('./operator-commands.js')).ackCommand,
  },
  {
    name: 'pause',
    summary: 'Stop tend from rolling out a service for a while, with an owner and a reason.',
    load: async () => (await import('./operator-commands.js')).pauseCommand,
  },
  {
    name: 'resume',
    summary: 'End a pause: tend rolls the service out again at once.',
    load: async () => (await import('./operator-commands.js')).resumeCommand,
  },
];
