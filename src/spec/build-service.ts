import type { FileLocation, Issue } from '../errors/index.js';
import { currentArtifactPath } from '../render/host-layout.js';
import { resolveArtifact } from './artifact.js';
import { checkRunUrl } from './run-url.js';
import { cronToOnCalendar, validateCron } from './cron-schedule.js';
import { SPEC_DEFAULTS } from './defaults.js';
import { parseEnvBlock } from './env-block.js';
import { specIssue } from './issue-codes.js';
import type { SpecIssueCode } from './issue-codes.js';
import type { DeploySpec, Limits, ProbeSpec, ProbeTiming, RunSpec, Serial, ServiceSpec, StoreCredentialsRef, TimerSpec } from './model.js';
import type { RawCommand, RawDuration, RawRun, RawService, RawSpecFile } from './raw-files.js';
import type { RepoReader } from './repo-reader.js';
import { serviceNameProblem, timerNameProblem, type NameProblem } from './service-names.js';
import { buildUnitOptions } from './unit-options.js';
import { formatDuration, parseDuration, parseSize } from './units.js';
import type { Pointer, YamlFile } from './yaml-document.js';

/**
 * One spec.yml that passed its schema -> a `ServiceSpec` with every default applied, plus the positions
 * the cross-file rules need to point at (group, after entries, ports, unit names).
 */

export interface PortClaim {
  readonly port: number;
  readonly at: FileLocation;
}

export interface UnitClaim {
  /** Unit name without suffix (`api`, `api-cleanup`). */
  readonly unit: string;
  readonly at: FileLocation;
}

export interface ServiceRefs {
  readonly folder: string;
  readonly name: FileLocation;
  readonly group: FileLocation;
  readonly after: readonly FileLocation[];
  readonly ports: readonly PortClaim[];
  readonly units: readonly UnitClaim[];
}

export interface BuiltService {
  readonly spec: ServiceSpec;
  readonly refs: ServiceRefs;
}

export type ServiceBuildResult =
  | { readonly ok: true; readonly service: BuiltService }
  | { readonly ok: false; readonly issues: readonly Issue[] };

export interface ServiceBuildContext {
  readonly reader: RepoReader;
  /** The folder under services/ the spec was found in. */
  readonly folder: string;
  readonly maxArtifactBytes: number;
}

class IssueSink {
  readonly issues: Issue[] = [];
  constructor(private readonly doc: YamlFile) {}

  at(pointer: Pointer): FileLocation {
    return this.doc.at(pointer);
  }

  add(code: SpecIssueCode, pointer: Pointer, message: string, hint?: string): void {
    this.issues.push(specIssue(code, this.doc.at(pointer), message, hint));
  }

  push(issues: readonly Issue[]): void {
    this.issues.push(...issues);
  }
}

const DURATION_HINT = 'Write a whole number with a unit: 500ms, 5s, 2m or 1h30m.';

function duration(sink: IssueSink, pointer: Pointer, field: string, raw: RawDuration | undefined, fallback: string): number {
  const value = raw ?? fallback;
  if (typeof value === 'number') {
    sink.add('E_DURATION', pointer, `${field}: ${value} has no unit`, `A bare number is ambiguous (seconds? milliseconds?). ${DURATION_HINT}`);
    return Number.NaN;
  }
  const parsed = parseDuration(value);
  if (parsed === undefined) {
    sink.add('E_DURATION', pointer, `${field}: \`${value}\` is not a duration`, DURATION_HINT);
    return Number.NaN;
  }
  return parsed;
}

/** A list is the argv as written; a string is split on blanks (the schema already refused quotes in it). */
export function commandArgv(command: RawCommand): string[] {
  return typeof command === 'string' ? command.split(/\s+/).filter((word) => word !== '') : [...command];
}

function programArgv(sink: IssueSink, pointer: Pointer, field: string, command: RawCommand): string[] {
  const argv = commandArgv(command);
  if (argv.length === 0 || argv[0] === '') {
    sink.add('E_COMMAND', pointer, `${field}: the command is empty`, 'Give at least the program to run, for example ["/usr/local/bin/check"].');
  }
  return argv;
}

function buildTiming(sink: IssueSink, raw: RawService): ProbeTiming {
  const deploy = raw.deploy ?? {};
  const probe = deploy.probe ?? { type: 'tcp' as const };
  const base = '/service/deploy';
  const timing: ProbeTiming = {
    interval: duration(sink, `${base}/probe/interval`, 'service.deploy.probe.interval', probe.interval, SPEC_DEFAULTS.interval),
    timeout: duration(sink, `${base}/probe/timeout`, 'service.deploy.probe.timeout', probe.timeout, SPEC_DEFAULTS.timeout),
    minHealthyTime: duration(sink, `${base}/min_healthy_time`, 'service.deploy.min_healthy_time', deploy.min_healthy_time, SPEC_DEFAULTS.minHealthyTime),
    healthyDeadline: duration(sink, `${base}/healthy_deadline`, 'service.deploy.healthy_deadline', deploy.healthy_deadline, SPEC_DEFAULTS.healthyDeadline),
    progressDeadline: duration(sink, `${base}/progress_deadline`, 'service.deploy.progress_deadline', deploy.progress_deadline, SPEC_DEFAULTS.progressDeadline),
  };
  const positive: readonly [keyof ProbeTiming, Pointer, string][] = [
    ['interval', `${base}/probe/interval`, 'service.deploy.probe.interval'],
    ['timeout', `${base}/probe/timeout`, 'service.deploy.probe.timeout'],
  ];
  for (const [key, pointer, field] of positive) {
    if (timing[key] === 0) sink.add('E_DURATION', pointer, `${field}: must be longer than 0`, DURATION_HINT);
  }

  // min_healthy_time < healthy_deadline < progress_deadline, reported on the field the author wrote
  // (the later one when both were written), naming defaults as such.
  const written = {
    min_healthy_time: deploy.min_healthy_time !== undefined,
    healthy_deadline: deploy.healthy_deadline !== undefined,
    progress_deadline: deploy.progress_deadline !== undefined,
  };
  const pairs: readonly [keyof typeof written, number, keyof typeof written, number][] = [
    ['min_healthy_time', timing.minHealthyTime, 'healthy_deadline', timing.healthyDeadline],
    ['healthy_deadline', timing.healthyDeadline, 'progress_deadline', timing.progressDeadline],
  ];
  for (const [shorter, shorterValue, longer, longerValue] of pairs) {
    if (Number.isNaN(shorterValue) || Number.isNaN(longerValue) || shorterValue < longerValue) continue;
    if (!written[shorter] && !written[longer]) continue;
    const blame = written[longer] ? longer : shorter;
    const show = (field: keyof typeof written, value: number) => `${field} (${formatDuration(value)}${written[field] ? '' : ', the default'})`;
    sink.add(
      'E_PROBE_TIMING',
      `${base}/${blame}`,
      `service.deploy.${blame}: ${show(shorter, shorterValue)} must be shorter than ${show(longer, longerValue)}`,
      'Keep min_healthy_time < healthy_deadline < progress_deadline: a host needs time to become healthy before it counts as failed, and the rollout needs longer than one host.',
    );
  }
  return timing;
}

function buildProbe(sink: IssueSink, raw: RawService): ProbeSpec | undefined {
  const probe = raw.deploy?.probe;
  if (probe === undefined) return undefined;
  switch (probe.type) {
    case 'http':
      return {
        type: 'http',
        port: probe.port ?? 0,
        path: probe.path ?? SPEC_DEFAULTS.probePath,
        expectStatus: probe.expect_status ?? SPEC_DEFAULTS.expectStatus,
        expectBody: probe.expect_body,
      };
    case 'tcp':
      return { type: 'tcp', port: probe.port ?? 0 };
    case 'exec':
      return { type: 'exec', argv: programArgv(sink, '/service/deploy/probe/command', 'service.deploy.probe.command', probe.command ?? []) };
  }
}

function buildSerial(raw: number | string | undefined): Serial {
  if (raw === undefined) return { kind: 'count', count: SPEC_DEFAULTS.serial };
  if (typeof raw === 'number') return { kind: 'count', count: raw };
  return { kind: 'percent', percent: Number(raw.slice(0, -1)) };
}

function buildDeploy(sink: IssueSink, raw: RawService): DeploySpec {
  const deploy = raw.deploy ?? {};
  let window: string | undefined;
  if (deploy.window !== undefined) {
    const checked = validateCron(deploy.window);
    if (checked.ok) window = deploy.window.trim();
    else sink.add('E_CRON', '/service/deploy/window', `service.deploy.window: ${checked.message}`, checked.hint);
  }
  return {
    serial: buildSerial(deploy.serial),
    canary: deploy.canary ?? SPEC_DEFAULTS.canary,
    maxFailedHosts: deploy.max_failed_hosts ?? SPEC_DEFAULTS.maxFailedHosts,
    probe: buildProbe(sink, raw),
    timing: buildTiming(sink, raw),
    window,
    autoRollback: deploy.auto_rollback ?? SPEC_DEFAULTS.autoRollback,
  };
}

function buildLimits(sink: IssueSink, raw: RawService): Limits {
  const limits = raw.limits ?? {};
  const mem = limits.mem ?? SPEC_DEFAULTS.mem;
  let memBytes = parseSize(mem);
  if (memBytes === undefined || memBytes === 0) {
    sink.add(
      'E_SIZE',
      '/service/limits/mem',
      `service.limits.mem: \`${String(mem)}\` is not a memory size`,
      'Write bytes, or a number with K, M, G or T (binary, as systemd: 1G = 1024M), for example 512M or 2G.',
    );
    memBytes = Number.NaN;
  }
  return {
    memBytes,
    noFile: limits.no_file ?? SPEC_DEFAULTS.noFile,
    cpuPercent: limits.cpu === undefined ? undefined : Number(limits.cpu.slice(0, -1)),
  };
}

const RESERVED_NAME_HINT = 'Pick a name of your own, for example with a team or product prefix (`shop-cron` instead of `cron`).';

/** The schema refuses a bad shape first, as E_SCHEMA; the same code here keeps one answer if it ever did not. */
function nameProblemCode(problem: NameProblem): 'E_SCHEMA' | 'E_RESERVED_NAME' {
  return problem.kind === 'shape' ? 'E_SCHEMA' : 'E_RESERVED_NAME';
}

function buildTimers(sink: IssueSink, doc: YamlFile, raw: RawService): { timers: TimerSpec[]; units: { unit: string; at: FileLocation }[] } {
  const timers: TimerSpec[] = [];
  const units: { unit: string; at: FileLocation }[] = [];
  const seen = new Map<string, number>();
  for (const [index, timer] of (raw.timers ?? []).entries()) {
    const base = `/service/timers/${index}`;
    const earlier = seen.get(timer.name);
    if (earlier !== undefined) {
      sink.add('E_DUPLICATE_TIMER', `${base}/name`, `service.timers[${index}].name: timer \`${timer.name}\` is already defined by timers[${earlier}]`, 'Give each timer of a service its own name.');
      continue;
    }
    seen.set(timer.name, index);
    const nameProblem = timerNameProblem(raw.name, timer.name);
    if (nameProblem !== undefined) sink.add(nameProblemCode(nameProblem), `${base}/name`, `service.timers[${index}].name: ${nameProblem.reason}`, RESERVED_NAME_HINT);
    units.push({ unit: `${raw.name}-${timer.name}`, at: doc.at(`${base}/name`) });
    const argv = programArgv(sink, `${base}/command`, `service.timers[${index}].command`, timer.command);
    const schedule = validateCron(timer.schedule);
    if (!schedule.ok) {
      sink.add('E_CRON', `${base}/schedule`, `service.timers[${index}].schedule: ${schedule.message}`, schedule.hint);
      continue;
    }
    const onCalendar = cronToOnCalendar(schedule.value);
    if (!onCalendar.ok) {
      sink.add('E_CRON_UNSUPPORTED', `${base}/schedule`, `service.timers[${index}].schedule: ${onCalendar.message}`, onCalendar.hint);
      continue;
    }
    timers.push({ name: timer.name, schedule: timer.schedule.trim(), onCalendar: onCalendar.value, argv, description: timer.description ?? '' });
  }
  return { timers, units };
}

async function buildRun(sink: IssueSink, raw: RawService, context: ServiceBuildContext): Promise<RunSpec | undefined> {
  const run = raw.run ?? {};
  if (run.package !== undefined) {
    const argv =
      run.command === undefined
        ? [`${SPEC_DEFAULTS.packageBinDir}/${raw.name}`]
        : programArgv(sink, '/service/run/command', 'service.run.command', run.command);
    return { kind: 'package', package: run.package, version: run.version, argv };
  }
  if (run.url !== undefined) return buildUrlRun(sink, raw, run.url);
  const artifact = await resolveArtifact(context.reader, {
    folder: context.folder,
    relativePath: run.artifact ?? raw.name,
    explicit: run.artifact !== undefined,
    expectedSha256: run.sha256?.toLowerCase(),
    maxBytes: context.maxArtifactBytes,
  });
  if (!artifact.ok) {
    const pointer = artifact.problem.code === 'E_ARTIFACT_HASH' ? '/service/run/sha256' : '/service/run/artifact';
    sink.add(artifact.problem.code, pointer, artifact.problem.message, artifact.problem.hint);
    return undefined;
  }
  const args = run.command === undefined ? [] : commandArgv(run.command);
  return {
    kind: 'artifact',
    path: artifact.path,
    fileName: artifact.fileName,
    sha256: artifact.sha256,
    argv: [currentArtifactPath(raw.name, artifact.fileName), ...args],
  };
}

function buildUrlRun(sink: IssueSink, raw: RawService, url: string): RunSpec | undefined {
  const run = raw.run ?? {};
  const checked = checkRunUrl(url, run.allow_http ?? SPEC_DEFAULTS.allowHttp);
  if (!checked.ok) {
    const hint =
      checked.code === 'E_RUN_URL_INSECURE'
        ? 'Use https, or set `allow_http: true` if the store is on a network you trust (the sha256 still checks the content).'
        : 'Write the full https:// URL of the file, without `user:password@`; a private store\'s credentials come from the secrets directory.';
    sink.add(checked.code, '/service/run/url', `service.run.url: ${checked.message}`, hint);
    return undefined;
  }
  if (run.file !== undefined && checked.archive === undefined) {
    sink.add('E_RUN_FILE', '/service/run/file', `service.run.file: ${checked.downloadName} is not a tarball, so there is no file inside it to name`, 'Remove run.file to run the download itself, or point run.url at a tarball (.tar, .tar.gz, .tgz, .tar.xz, .txz, .tar.bz2, .tbz2, .tar.zst).');
    return undefined;
  }
  const inside = run.file ?? raw.name;
  if (inside.split('/').some((segment) => segment === '.' || segment === '..')) {
    sink.add('E_RUN_FILE', '/service/run/file', `service.run.file: \`${inside}\` leaves the tarball`, 'Name the program relative to the top of the tarball, without . or .. segments.');
    return undefined;
  }
  const fileName = checked.archive === undefined ? checked.downloadName : inside;
  const args = run.command === undefined ? [] : commandArgv(run.command);
  return {
    kind: 'url',
    url,
    // The schema made it 64 hex digits and required it with url.
    sha256: (run.sha256 ?? '').toLowerCase(),
    downloadName: checked.downloadName,
    archive: checked.archive,
    fileName,
    fetch: run.fetch ?? SPEC_DEFAULTS.fetch,
    credentials: credentialsRef(sink, run.credentials),
    argv: [currentArtifactPath(raw.name, fileName), ...args],
  };
}

function credentialsRef(sink: IssueSink, raw: RawRun['credentials']): StoreCredentialsRef | undefined {
  // The schema allows exactly one of the two.
  if (raw?.bearer !== undefined) return { scheme: 'bearer', secret: raw.bearer, where: sink.at('/service/run/credentials/bearer') };
  if (raw?.basic !== undefined) return { scheme: 'basic', secret: raw.basic, where: sink.at('/service/run/credentials/basic') };
  return undefined;
}

function portClaims(doc: YamlFile, raw: RawService): PortClaim[] {
  const claims: PortClaim[] = [];
  const probe = raw.deploy?.probe;
  if (probe !== undefined && probe.type !== 'exec' && probe.port !== undefined) {
    claims.push({ port: probe.port, at: doc.at('/service/deploy/probe/port') });
  }
  for (const [index, port] of (raw.run?.ports ?? []).entries()) claims.push({ port, at: doc.at(`/service/run/ports/${index}`) });
  if (raw.metrics_port !== undefined) claims.push({ port: raw.metrics_port, at: doc.at('/service/metrics_port') });
  return claims;
}

export async function buildService(doc: YamlFile, context: ServiceBuildContext): Promise<ServiceBuildResult> {
  const raw = (doc.value as RawSpecFile).service;
  const sink = new IssueSink(doc);

  const nameProblem = serviceNameProblem(raw.name);
  if (nameProblem !== undefined) sink.add(nameProblemCode(nameProblem), '/service/name', `service.name: ${nameProblem.reason}`, RESERVED_NAME_HINT);
  if (raw.name !== context.folder) {
    sink.add(
      'E_NAME_MISMATCH',
      '/service/name',
      `service.name \`${raw.name}\` differs from its folder services/${context.folder}`,
      `Rename the folder to services/${raw.name}, or set name: ${context.folder}.`,
    );
  }

  const environment = raw.environments === undefined ? { vars: [], issues: [] } : parseEnvBlock(raw.environments, doc, '/service/environments', new Set(raw.allow_env ?? []));
  sink.push(environment.issues);

  const unit = buildUnitOptions(doc, raw.name, raw.unit);
  sink.push(unit.issues);

  const deploy = buildDeploy(sink, raw);
  const limits = buildLimits(sink, raw);
  const { timers, units } = buildTimers(sink, doc, raw);
  const run = await buildRun(sink, raw, context);
  const ports = portClaims(doc, raw);

  if (sink.issues.length > 0 || run === undefined) return { ok: false, issues: sink.issues };
  const spec: ServiceSpec = {
    name: raw.name,
    group: raw.group,
    description: raw.description ?? SPEC_DEFAULTS.description,
    run,
    deploy,
    after: [...(raw.after ?? [])],
    limits,
    ports: [...new Set(ports.map((claim) => claim.port))].sort((a, b) => a - b),
    metricsPort: raw.metrics_port,
    resources: raw.resources,
    environment: environment.vars,
    hostDependent: environment.vars.some((variable) => variable.parts.some((part) => part.kind === 'host-name' || part.kind === 'host-var')),
    unit: unit.unit,
    timers,
    source: doc.keyAt('/service'),
  };
  return {
    ok: true,
    service: {
      spec,
      refs: {
        folder: context.folder,
        name: doc.at('/service/name'),
        group: doc.at('/service/group'),
        after: (raw.after ?? []).map((_, index) => doc.at(`/service/after/${index}`)),
        ports,
        units: [{ unit: raw.name, at: doc.at('/service/name') }, ...units],
      },
    },
  };
}
