import type { ErrorClass } from '../errors/index.js';

/** The `code` of a Node file-system error (`ENOENT`, `EACCES`), or undefined for anything else. */
export function errnoOf(error: unknown): string | undefined {
  if (error === null || typeof error !== 'object' || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

/**
 * Permissions, a read-only mount or a missing directory do not fix themselves: retrying would only repeat
 * the failure, so a person is needed. A full disk or an I/O error may pass (logs rotate, a volume grows).
 */
const NEEDS_A_PERSON = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOENT', 'ENOTDIR', 'EISDIR', 'ELOOP']);

export function fsErrorClass(error: unknown): ErrorClass {
  return NEEDS_A_PERSON.has(errnoOf(error) ?? '') ? 'conflict' : 'transient';
}
