import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino blanks out wherever they appear in a log object. tend never puts a resolved secret in a log
 * call on purpose; this is the second line of defence for the places a library error might carry one.
 */
const REDACTED_PATHS = [
  'password',
  'token',
  'secret',
  'authorization',
  'headers.authorization',
  'credentials',
  '*.password',
  '*.token',
  '*.secret',
  '*.authorization',
  '*.credentials',
];

export interface LoggerOptions {
  readonly level?: string;
  /** Where lines go; stdout (one JSON event per line, for journald) by default. */
  readonly destination?: NodeJS.WritableStream;
}

/** The daemon's logger: one JSON event per line, messages static, data in the fields (service, host, commit, code). */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { name: 'tend' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination === undefined ? pino.destination({ sync: true }) : (options.destination as Parameters<typeof pino>[1]),
  );
}
