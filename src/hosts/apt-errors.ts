import { ERROR_CODES, TendError, type ErrorClass } from '../errors/index.js';

/**
 * apt-get's and dpkg's failures, classified where they happen (renovate's habit): what apt printed (under
 * LC_ALL=C, so the English messages below are what it says) and its exit code decide whose fault it is.
 * The order of the rules matters and is the order of the table: a held lock explains every later error of
 * the same run, a repository that cannot be reached explains a "not found", and only output tend does not
 * recognise at all falls through to E_APT_FAILED, a conflict: neither retried nor reverted on a guess.
 */

export type AptFailureCode =
  | 'E_APT_LOCKED'
  | 'E_APT_UNREACHABLE'
  | 'E_APT_SIGNATURE'
  | 'E_PACKAGE_VERSION_MISSING'
  | 'E_PACKAGE_SCRIPT_FAILED'
  | 'E_APT_FAILED';

interface AptRule {
  readonly code: AptFailureCode;
  readonly patterns: readonly RegExp[];
}

const RULES: readonly AptRule[] = [
  {
    code: 'E_APT_LOCKED',
    patterns: [/Could not get lock/, /Unable to acquire the dpkg frontend lock/, /Unable to lock (the )?(administration )?directory/, /is another process using it\?/],
  },
  {
    code: 'E_APT_UNREACHABLE',
    patterns: [
      /Could not connect to/,
      /Connection refused/,
      /Connection failed/,
      /Connection timed out/,
      /Temporary failure resolving/,
      /Could not resolve/,
      /No route to host/,
      /Network is unreachable/,
      /Unable to connect to/,
      /\b50[234]\s+(Bad Gateway|Service Unavailable|Gateway Time-?out)/,
    ],
  },
  {
    code: 'E_APT_SIGNATURE',
    patterns: [/NO_PUBKEY/, /EXPKEYSIG/, /BADSIG/, /signatures couldn't be verified/, /signatures were invalid/, /is not signed\./, /is no longer signed\./],
  },
  {
    code: 'E_PACKAGE_VERSION_MISSING',
    patterns: [/E: Version '[^']*' for '[^']*' was not found/, /E: Unable to locate package /, /E: Package '[^']*' has no installation candidate/],
  },
  {
    code: 'E_PACKAGE_SCRIPT_FAILED',
    patterns: [
      /(pre|post)-(installation|removal) script (subprocess )?returned error exit status/,
      /dpkg: error processing (package|archive)/,
      /Sub-process \/usr\/bin\/dpkg returned an error code/,
    ],
  },
];

export interface AptFailure {
  readonly code: AptFailureCode;
  readonly errorClass: ErrorClass;
  /** The line of apt's output that decided the code (or its last error line), for the message. */
  readonly evidence: string;
}

/** Pure: apt's exit code and everything it printed -> whose fault the failure is. */
export function classifyAptFailure(exitCode: number, output: string): AptFailure {
  const lines = output.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  for (const rule of RULES) {
    for (const pattern of rule.patterns) {
      const line = lines.find((candidate) => pattern.test(candidate));
      if (line !== undefined) return { code: rule.code, errorClass: classOf(rule.code), evidence: line };
    }
  }
  const lastError = [...lines].reverse().find((line) => line.startsWith('E: ')) ?? lines.at(-1) ?? `exit code ${exitCode}, no output`;
  return { code: 'E_APT_FAILED', errorClass: classOf('E_APT_FAILED'), evidence: lastError };
}

/** The class registered for the code in codes.ts: one place says which class each code has. */
function classOf(code: AptFailureCode): ErrorClass {
  return ERROR_CODES[code].errorClass;
}

/** The TendError for a failed apt command on a host: its code, host and command, and the line that says why. */
export function aptFailureError(host: string, command: string, exitCode: number, output: string): TendError {
  const failure = classifyAptFailure(exitCode, output);
  const evidence = failure.evidence.length > 500 ? `${failure.evidence.slice(0, 500)}…` : failure.evidence;
  return new TendError(failure.code, failure.errorClass, `${host}: \`${command}\` exited ${exitCode}: ${evidence}`, { where: { host, command } });
}
