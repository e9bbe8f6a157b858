import { formatLocation, type TendError } from '../errors/index.js';

/** The one way an error reaches a person: code, place, message, hint; a stack only for tend's own bugs on request. */
export function formatError(error: TendError, debug: boolean): string {
  const where = error.where === undefined ? '' : `${formatLocation(error.where)}: `;
  const lines = [`error: ${where}${error.message} (${error.code})`];
  if (error.hint !== undefined) lines.push(`  hint: ${error.hint}`);
  if (error.errorClass === 'internal' && debug && error.cause instanceof Error && error.cause.stack !== undefined) {
    lines.push(error.cause.stack);
  }
  return `${lines.join('\n')}\n`;
}

/** The shape of an error under `--json`: stable fields for scripts. */
export function errorJson(error: TendError): Record<string, unknown> {
  return {
    code: error.code,
    class: error.errorClass,
    message: error.message,
    hint: error.hint ?? null,
    where: error.where ?? null,
  };
}
