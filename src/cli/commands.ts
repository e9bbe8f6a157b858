import { applyCommand } from './apply-command.js';
import type { Command } from './command.js';
import { ackCommand, pauseCommand, resumeCommand, retryCommand } from './operator-commands.js';
import { planCommand } from './plan-command.js';
import { renderCommand } from './render-command.js';
import { revertCommand } from './revert-command.js';
import { runCommand } from './run-command.js';
import { statusCommand } from './status-command.js';
import { validateCommand } from './validate-command.js';

/** Every command, in the order `tend --help` lists them. */
export const commands: readonly Command[] = [
  validateCommand,
  renderCommand,
  planCommand,
  applyCommand,
  runCommand,
  statusCommand,
  revertCommand,
  retryCommand,
  ackCommand,
  pauseCommand,
  resumeCommand,
];
