import type { ServiceSpec, TimerSpec } from '../spec/model.js';
import { hardeningSettings, withDirectives } from './hardening.js';
import { envFilePath, timerServiceName } from './host-layout.js';
import { execLine, unitText } from './systemd-quoting.js';
import { describe, limitSettings, workingDirectorySettings } from './unit-file.js';
import { formatUnitFile, headerLines } from './unit-syntax.js';

/**
 * `<service>-<timer>.timer`. Persistent=true: a run missed while the host was down or the timer was
 * being replaced happens at the next boot or start, as cron users expect from anacron, not never.
 */
export function renderTimerUnit(service: ServiceSpec, timer: TimerSpec): string {
  return formatUnitFile(headerLines(service.name), [
    { name: 'Unit', settings: [['Description', timerDescription(service, timer)]] },
    {
      name: 'Timer',
      settings: [
        ['OnCalendar', unitText(timer.onCalendar, `schedule of timer ${timer.name}`)],
        ['Persistent', 'true'],
        ['Unit', timerServiceName(service.name, timer.name)],
      ],
    },
    { name: 'Install', settings: [['WantedBy', 'timers.target']] },
  ]);
}

/**
 * `<service>-<timer>.service`, the oneshot the timer starts: the service's env file, limits, sandbox,
 * working directory and directives (but not those about the service's start and stop), and the same
 * user, so a job sees the state the service writes. No [Install]: only the timer
 * starts it. No Restart=: a failed run waits for the next tick instead of hammering what it talks to.
 */
export function renderTimerServiceUnit(service: ServiceSpec, timer: TimerSpec): string {
  return formatUnitFile(headerLines(service.name), [
    {
      name: 'Unit',
      settings: [
        ['Description', timerDescription(service, timer)],
        ['After', 'network-online.target'],
        ['Wants', 'network-online.target'],
      ],
    },
    {
      name: 'Service',
      settings: withDirectives(
        [
          ['Type', 'oneshot'],
          ['ExecStart', execLine(timer.argv)],
          ['EnvironmentFile', envFilePath(service.name)],
          ...workingDirectorySettings(service),
          ...limitSettings(service),
          ...hardeningSettings(service),
        ],
        service,
        true,
      ),
    },
  ]);
}

function timerDescription(service: ServiceSpec, timer: TimerSpec): string {
  return describe(timer.description, `${service.name} ${timer.name}`, `description of timer ${timer.name}`);
}
