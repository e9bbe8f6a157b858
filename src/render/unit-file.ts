import type { ServiceSpec } from '../spec/model.js';
import { formatDuration } from '../spec/units.js';
import { hardeningSettings, withDirectives } from './hardening.js';
import { envFilePath, unitName } from './host-layout.js';
import { assertRenderable, execLine, unitText } from './systemd-quoting.js';
import { formatBytes, formatCount, formatPercent } from './systemd-values.js';
import { formatUnitFile, headerLines, type Setting } from './unit-syntax.js';

/** Services reach the network at start; network-online.target is what "the network is up" means to systemd. */
const NETWORK = 'network-online.target';

/**
 * After=/Wants= for the network and for the `after:` services that run on this host too. An `after:`
 * service on other hosts only orders the rollout (the planner's job); on this host it also orders boot.
 * Sorted and deduplicated, so the spec's list order changes no byte.
 */
export function orderingSettings(service: ServiceSpec, servicesOnHost: ReadonlySet<string>): Setting[] {
  const local = [...new Set(service.after)]
    .filter((name) => name !== service.name && servicesOnHost.has(name))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map(unitName);
  const units = [NETWORK, ...local].join(' ');
  return [
    ['After', units],
    ['Wants', units],
  ];
}

/** MemoryMax=, LimitNOFILE=, CPUQuota=: the same for the service and its timers' jobs. */
export function limitSettings(service: ServiceSpec): Setting[] {
  const { memBytes, noFile, cpuPercent } = service.limits;
  return [
    ['MemoryMax', formatBytes(memBytes)],
    ['LimitNOFILE', formatCount(noFile, 'no_file limit')],
    ...(cpuPercent === undefined ? [] : ([['CPUQuota', formatPercent(cpuPercent)]] as const)),
  ];
}

export function describe(text: string, fallback: string, what: string): string {
  return unitText(text.trim() === '' ? fallback : text, what);
}

/** WorkingDirectory=: the same for the service and its timers' jobs, which run the same program. */
export function workingDirectorySettings(service: ServiceSpec): Setting[] {
  const directory = service.unit.workingDirectory;
  if (directory === undefined) return [];
  assertRenderable(directory, `working directory of ${service.name}`);
  return [['WorkingDirectory', directory]];
}

/** KillSignal= and TimeoutStopSec= when the spec sets them; systemd's defaults (SIGTERM, 90 s) otherwise. */
function stopSettings(service: ServiceSpec): Setting[] {
  const { killSignal, timeoutStop } = service.unit;
  return [
    ...(killSignal === undefined ? [] : ([['KillSignal', killSignal]] as const)),
    // tend's shortest spelling (1m30s) is one systemd reads the same way: systemd.time(7) allows joined units.
    ...(timeoutStop === undefined ? [] : ([['TimeoutStopSec', formatDuration(timeoutStop)]] as const)),
  ];
}

/**
 * `<service>.service`. Type=exec by default, not simple: a missing or non-executable artifact then fails
 * the start job itself instead of looking "started" for an instant. Restart=on-failure with a short pause
 * keeps a crashing release visible to the probe (NRestarts grows) without systemd's start limit (5 starts
 * in 10 s) turning one bad second into a permanently failed unit.
 */
export function renderServiceUnit(service: ServiceSpec, servicesOnHost: ReadonlySet<string>): string {
  return formatUnitFile(headerLines(service.name), [
    {
      name: 'Unit',
      settings: [['Description', describe(service.description, service.name, `description of ${service.name}`)], ...orderingSettings(service, servicesOnHost)],
    },
    {
      name: 'Service',
      settings: withDirectives(
        [
          ['Type', service.unit.type],
          ['ExecStart', execLine(service.run.argv)],
          ['EnvironmentFile', envFilePath(service.name)],
          ...workingDirectorySettings(service),
          ['Restart', 'on-failure'],
          ['RestartSec', '2s'],
          ...stopSettings(service),
          ...limitSettings(service),
          ...hardeningSettings(service),
        ],
        service,
        false,
      ),
    },
    { name: 'Install', settings: [['WantedBy', 'multi-user.target']] },
  ]);
}
