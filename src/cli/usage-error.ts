import { TendError } from '../errors/index.js';

/** The command line itself is wrong; printed with the command's usage line. */
export class UsageError extends TendError {
  constructor(message: string, hint?: string) {
    super('E_USAGE', 'invalid', message, hint === undefined ? {} : { hint });
    this.name = 'UsageError';
  }
}
