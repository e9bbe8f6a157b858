import { ERROR_CODES, type ErrorCode } from './codes.js';

/**
 * The error taxonomy of ../shared/DESIGN.md. Every error tend surfaces carries a stable code, the class
 * that decides what the reconciler does next, a place (file:line:col, or host + command) and a hint.
 */
export type ErrorClass =
  /** Host unreachable, git host down, timeout: bounded retries with backoff, then escalate. Never reverts. */
  | 'transient'
  /** The new version fails its probe, crashes or never binds: stop the rollout, auto-revert. */
  | 'change'
  /** YAML, schema, cross-field, cycle, unknown group: nothing touches a host until a new commit. */
  | 'invalid'
  /** Revert conflicts, push rejected, history rewritten, host key changed, auth refused: wait for a person. */
  | 'conflict'
  /** A bug in tend itself. */
  | 'internal';

export interface FileLocation {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly col: number;
}

export interface HostLocation {
  readonly host: string;
  readonly command?: string;
}

export type Location = FileLocation | HostLocation;

export interface TendErrorOptions {
  readonly where?: Location;
  /** What to do, specific to this place; without it, the code's hint from the registry (codes.ts). */
  readonly hint?: string;
  readonly cause?: unknown;
}

export class TendError extends Error {
  readonly code: ErrorCode;
  readonly errorClass: ErrorClass;
  readonly hint: string;
  readonly where: Location | undefined;

  constructor(code: ErrorCode, errorClass: ErrorClass, message: string, options: TendErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TendError';
    this.code = code;
    this.errorClass = errorClass;
    this.hint = options.hint ?? ERROR_CODES[code].hint;
    this.where = options.where;
  }

  /** Retrying the same inputs may succeed; every other class waits for new inputs or a person. */
  get retryable(): boolean {
    return this.errorClass === 'transient';
  }
}

/** A bug in tend: shown as such, with the original error kept as `cause`. */
export class InternalError extends TendError {
  constructor(message: string, cause?: unknown) {
    super('E_INTERNAL', 'internal', message, { cause });
    this.name = 'InternalError';
  }
}

export function isFileLocation(where: Location | undefined): where is FileLocation {
  return where !== undefined && 'file' in where;
}

/** `file:line:col`, or `host: command`, for messages. */
export function formatLocation(where: Location): string {
  if (isFileLocation(where)) return `${where.file}:${where.line}:${where.col}`;
  return where.command === undefined ? where.host : `${where.host}: ${where.command}`;
}

/** Wraps anything thrown into a TendError: a TendError passes through, anything else is tend's bug. */
export function asTendError(error: unknown): TendError {
  if (error instanceof TendError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new InternalError(message, error);
}
