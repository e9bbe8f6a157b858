import { TendError } from '../errors/index.js';
import type { ServiceSpec, TimerSpec } from '../spec/model.js';

/**
 * Names that end up in unit names, paths and `User=`. systemd's DynamicUser= takes the strict user-name
 * rule (letter or `_` first, then letters, digits, `_`, `-`; at most 31 characters), which is narrower
 * than unit names, so a service name has to pass it or the unit would fail at start on every host.
 * The loader should reject such names first; this check keeps render from writing a unit that cannot run.
 */
const SERVICE_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,30}$/;
const TIMER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;

export function checkServiceName(service: ServiceSpec): void {
  if (SERVICE_NAME.test(service.name)) return;
  throw new TendError('E_SERVICE_NAME', 'invalid', `service name ${JSON.stringify(service.name)} cannot be a systemd dynamic user name`, {
    where: { file: service.source.file, line: service.source.line, col: service.source.col },
    hint: 'Use at most 31 characters: a letter or `_` first, then letters, digits, `_` or `-`.',
  });
}

export function checkTimerName(service: ServiceSpec, timer: TimerSpec): void {
  if (TIMER_NAME.test(timer.name)) return;
  throw new TendError('E_TIMER_NAME', 'invalid', `timer name ${JSON.stringify(timer.name)} of ${service.name} cannot be part of a unit name`, {
    where: { file: service.source.file, line: service.source.line, col: service.source.col },
    hint: 'Use letters, digits, `_` and `-`.',
  });
}
