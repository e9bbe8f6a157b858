import { InternalError, asTendError, type ErrorClass } from '../errors/index.js';
import {
  daemonReload,
  enableUnits,
  journalMarkArgv,
  journalTail,
  pruneReleases,
  removeFiles,
  restartUnits,
  runProbe,
  showUnits,
  stageRelease,
  stopAndDisableUnits,
  switchRelease,
  writeFileAtomic,
  type RemoteFiles,
  type UnitProperties,
} from '../hosts/index.js';
import { describePackageChange } from '../plan/index.js';
import type { HostStep, KnownRun } from '../plan/model.js';
import { timerUnitName, unitName, type RenderedService } from '../render/index.js';
import type { HostSpec, ServiceSpec } from '../spec/model.js';
import type { UrlDelivery } from '../artifacts/index.js';
import { stageUrlRelease } from './artifact-step.js';
import { hostStepMarkText, markingFirstCommand, type StepActor, type StepEdge } from './host-step-mark.js';
import { judgeHealth, runStartedByRestart, type HealthObservation, type HealthVerdict, type JudgedRun, type ProbeResult } from './health-decision.js';
import { installPackageStep, keepRecentPackages, type AptSession } from './package-step.js';

/** The outside world of a rollout: hosts, the clock, the repo's artifacts, and who listens to progress. */
export interface RolloutEffects {
  readonly pool: RemoteFiles;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** The bytes of a service's artifact at the commit being applied. */
  readonly readArtifact: (service: ServiceSpec) => Promise<Uint8Array>;
  /** tend's own download (fetch: tend) and a private store's credentials, for run.url services. */
  readonly urlDelivery?: UrlDelivery;
  readonly onProgress: (event: StepProgress) => void;
  /** Releases kept per service on a host, `current` included. */
  readonly keepReleases: number;
  /**
   * True once a newer commit makes this rollout pointless (the daemon's "newest commit wins"). Checked only
   * where stopping is safe: before a batch starts and between probes, never between a write and a restart.
   */
  readonly superseded?: () => boolean;
  /** Every probe result of a new run, for the probe-duration metric. */
  readonly onProbe?: (service: string, host: string, result: ProbeResult) => void;
  /**
   * Whether this service's change failure stops the other services of the apply at their next safe point:
   * the daemon says yes when it will revert the commit, which changes their desired state anyway.
   */
  readonly changeFailureStopsOthers?: (service: ServiceSpec) => boolean;
  /** Who carries the steps out and for which commit, as each host's journal names them. */
  readonly actor: StepActor;
}

export type StepPhase = 'stage' | 'write' | 'reload' | 'switch' | 'restart' | 'probe' | 'healthy' | 'failed' | 'unreachable' | 'superseded';

export interface StepProgress {
  readonly service: string;
  readonly host: string;
  readonly phase: StepPhase;
  readonly detail: string;
  /** While probing: when the host fails if it is not healthy by then. */
  readonly deadlineAt?: number;
  /** While probing: the new run and when its restart finished, once the run has been seen. */
  readonly run?: KnownRun;
}

/** What happened on one host, with the evidence a status page, an alert and a revert commit carry. */
export interface HostStepResult {
  readonly service: string;
  readonly host: string;
  readonly action: HostStep['action'];
  /** `superseded`: a newer commit arrived while probing; the host runs the new version, judged by nobody. */
  readonly outcome: 'healthy' | 'failed' | 'unreachable' | 'superseded';
  readonly code: string;
  readonly errorClass: ErrorClass | undefined;
  readonly detail: string;
  readonly hint: string | undefined;
  readonly lastProbe: ProbeResult | undefined;
  /** The last journal lines of a unit that failed. */
  readonly journal: string | undefined;
  readonly startedAt: number;
  readonly endedAt: number;
}

export interface HostStepInput {
  readonly step: HostStep;
  readonly service: ServiceSpec;
  readonly host: HostSpec;
  readonly rendered: RenderedService<'resolved'>;
  /** The unit as observed before this step; undefined when the service never ran there. */
  readonly before: UnitProperties | undefined;
  /** The rollout's apt session, for a step that installs a package (`step.package`). */
  readonly apt?: AptSession;
}

const JOURNAL_LINES = 20;
/** The end mark is a courtesy to the operator: a host slow to take it must not hold up the rollout. */
const END_MARK_TIMEOUT_MS = 10_000;

/**
 * Codes that mean the host could not be talked to (as opposed to a host that answered with an error, such
 * as a full disk): reported as unreachable. Either way a transient error never blames the version.
 */
const CONNECTION_LOST: ReadonlySet<string> = new Set(['E_HOST_UNREACHABLE', 'E_OUTCOME_UNKNOWN', 'E_COMMAND_TIMEOUT', 'E_SSH_CHANNEL']);

/**
 * Carries out one host step: stage the release (verified on the host) before anything running is touched,
 * write files atomically, reload, switch, restart, then watch the new run until the pure health judgement
 * says healthy or failed. Errors from the host are classified where they happen: a lost connection is
 * `unreachable` (never blamed on the version); only the health judgement blames the change. The step's
 * start and end are marked in the host's journal (`host-step-mark.ts`).
 */
export async function runHostStep(input: HostStepInput, effects: RolloutEffects): Promise<HostStepResult> {
  const { step, service, host } = input;
  const mark = (edge: StepEdge): string => hostStepMarkText(edge, service.name, step.action, effects.actor, step.judgeRun !== undefined);
  const result = await carryOutHostStep(input, { ...effects, pool: markingFirstCommand(effects.pool, host, mark({ kind: 'begin' })) });
  // Its own round trip: which command is a step's last is known only once tend has judged its output. A
  // host that could not be reached would not take it either.
  if (result.outcome !== 'unreachable') {
    await effects.pool.run(host, journalMarkArgv(mark({ kind: 'end', outcome: result.outcome })), { timeoutMs: END_MARK_TIMEOUT_MS }).catch(() => undefined);
  }
  return result;
}

async function carryOutHostStep(input: HostStepInput, effects: RolloutEffects): Promise<HostStepResult> {
  const { step, service, host } = input;
  const startedAt = effects.now();
  const progress = (phase: StepPhase, detail: string, deadlineAt?: number, run?: KnownRun): void =>
    effects.onProgress({ service: service.name, host: host.name, phase, detail, ...(deadlineAt === undefined ? {} : { deadlineAt }), ...(run === undefined ? {} : { run }) });
  const finish = (outcome: HostStepResult['outcome'], fields: Partial<HostStepResult> & Pick<HostStepResult, 'code' | 'detail'>): HostStepResult => ({
    service: service.name,
    host: host.name,
    action: step.action,
    outcome,
    errorClass: undefined,
    hint: undefined,
    lastProbe: undefined,
    journal: undefined,
    startedAt,
    endedAt: effects.now(),
    ...fields,
  });

  let restartedAt: number;
  let run: JudgedRun | undefined;
  try {
    if (step.judgeRun === undefined) {
      run = runStartedByRestart(input.before, await applyChanges(input, effects, progress));
      restartedAt = effects.now();
    } else {
      // tend was restarted while judging this run: go on judging it from its own start, never restart it.
      ({ restartedAt, ...run } = step.judgeRun);
    }
  } catch (error) {
    const tendError = asTendError(error);
    if (tendError.errorClass === 'internal') throw tendError;
    const lost = CONNECTION_LOST.has(tendError.code);
    progress(lost ? 'unreachable' : 'failed', `${tendError.code}: ${tendError.message}`);
    return finish(lost ? 'unreachable' : 'failed', {
      code: tendError.code,
      errorClass: tendError.errorClass,
      detail: tendError.message,
      hint: tendError.hint,
    });
  }

  let verdict: HealthVerdict | 'superseded';
  try {
    verdict = await watchHealth(input, effects, restartedAt, run, progress);
  } catch (error) {
    const tendError = asTendError(error);
    if (tendError.errorClass === 'internal') throw tendError;
    const lost = CONNECTION_LOST.has(tendError.code);
    progress(lost ? 'unreachable' : 'failed', `${tendError.code}: ${tendError.message}`);
    return finish(lost ? 'unreachable' : 'failed', { code: tendError.code, errorClass: tendError.errorClass, detail: tendError.message, hint: tendError.hint });
  }

  if (verdict === 'superseded') {
    progress('superseded', 'a newer commit supersedes this rollout; stopped watching');
    return finish('superseded', { code: 'E_SUPERSEDED', detail: 'a newer commit superseded this rollout while the host was being probed' });
  }
  if (verdict.state === 'healthy') {
    progress('healthy', verdict.detail);
    await keepRecentReleases(input, effects);
    return finish('healthy', { code: verdict.code, detail: verdict.detail, lastProbe: verdict.lastProbe });
  }
  const journal = await journalTail(effects.pool, host, unitName(service.name), JOURNAL_LINES).catch(() => undefined);
  progress('failed', `${verdict.code}: ${verdict.detail}`);
  return finish('failed', {
    code: verdict.code,
    errorClass: 'change',
    detail: verdict.detail,
    hint: 'The new version did not become healthy; its probe evidence and journal are recorded with the rollout.',
    lastProbe: verdict.lastProbe,
    journal,
  });
}

/** Returns the unit as systemd reported it right after the restart: the run the restart started. */
async function applyChanges(input: HostStepInput, effects: RolloutEffects, progress: (phase: StepPhase, detail: string) => void): Promise<UnitProperties | undefined> {
  const { step, service, host, rendered } = input;
  const { pool } = effects;
  if (step.package !== undefined) {
    // Like staging a release: a version the repository lacks fails here, before anything running is touched.
    if (input.apt === undefined) throw new InternalError(`a step of ${service.name} on ${host.name} installs a package without an apt session`);
    progress('stage', `install ${describePackageChange(step.package)}`);
    const installed = await installPackageStep(pool, host, step.package, input.apt);
    progress('stage', `${step.package.name} ${installed.version} installed from ${installed.from === 'kept' ? 'the .deb kept on the host' : 'the repository'} and held`);
  }
  if (step.release !== undefined && !step.releasePresent && service.run.kind === 'artifact') {
    progress('stage', `upload ${service.run.fileName} ${step.release.slice(0, 12)}`);
    await stageRelease(pool, host, service.name, step.release, service.run.fileName, await effects.readArtifact(service));
  }
  if (step.release !== undefined && !step.releasePresent && service.run.kind === 'url') {
    await stageUrlRelease(service, service.run, host, effects, (detail) => progress('stage', detail));
  }
  if (step.writes.length > 0) progress('write', step.writes.map((file) => file.path).join(', '));
  for (const write of step.writes) {
    const file = rendered.files.find((candidate) => candidate.path === write.path);
    if (file === undefined) throw new Error(`the plan writes ${write.path}, which was not rendered for ${service.name} on ${host.name}`);
    await writeFileAtomic(pool, host, file.path, Buffer.from(file.content, 'utf8'), file.mode);
  }
  await stopAndDisableUnits(pool, host, timerUnitsAmong(step.deletes));
  await removeFiles(pool, host, step.deletes);
  if (step.needsDaemonReload) {
    progress('reload', 'systemctl daemon-reload');
    await daemonReload(pool, host);
  }
  if (step.release !== undefined && service.run.kind !== 'package') {
    progress('switch', `current -> ${step.release.slice(0, 12)}`);
    await switchRelease(pool, host, service.name, step.release);
  }
  const timers = service.timers.map((timer) => timerUnitName(service.name, timer.name));
  const unit = unitName(service.name);
  await enableUnits(pool, host, [unit, ...timers]);
  progress('restart', `systemctl restart ${unit}`);
  return (await restartUnits(pool, host, [unit, ...timers])).get(unit);
}

async function watchHealth(
  input: HostStepInput,
  effects: RolloutEffects,
  restartedAt: number,
  started: JudgedRun | undefined,
  progress: (phase: StepPhase, detail: string, deadlineAt?: number, run?: KnownRun) => void,
): Promise<HealthVerdict | 'superseded'> {
  const { service, host, before } = input;
  const { timing, probe } = service.deploy;
  const unit = unitName(service.name);
  const observations: HealthObservation[] = [];
  const deadlineAt = restartedAt + timing.healthyDeadline;
  for (;;) {
    const status = await showUnits(effects.pool, host, [unit]);
    const properties = status.get(unit);
    if (properties === undefined) throw new Error(`systemctl show did not report ${unit} on ${host.name}`);
    const probeResult = probe === undefined ? undefined : await runProbe(effects.pool, host, probe, timing.timeout);
    if (probeResult !== undefined) effects.onProbe?.(service.name, host.name, probeResult);
    const now = effects.now();
    observations.push({ at: now, unit: properties, probe: probeResult });
    const verdict = judgeHealth({
      before: before === undefined ? undefined : { invocationId: before.invocationId, nRestarts: before.nRestarts },
      ...(started === undefined ? {} : { run: started }),
      restartedAt,
      observations,
      timing,
      hasProbe: probe !== undefined,
      now,
    });
    if (verdict.state !== 'pending') return verdict;
    if (effects.superseded?.() === true) return 'superseded';
    const run = verdict.run === undefined ? undefined : { invocationId: verdict.run.invocationId, nRestarts: verdict.run.nRestarts, restartedAt };
    progress('probe', `${verdict.code}: ${verdict.detail}`, deadlineAt, run);
    if (await waitUnlessSuperseded(effects, timing.interval)) return 'superseded';
  }
}

/** How often a wait between probes asks whether the rollout is superseded. */
const SUPERSEDED_CHECK_MS = 250;

/**
 * Waits a probe interval in slices, true as soon as the rollout is superseded: a leader whose lease runs
 * out must stop within its margin (a third of the TTL), and a probe interval may be longer than that.
 */
async function waitUnlessSuperseded(effects: RolloutEffects, ms: number): Promise<boolean> {
  for (let waited = 0; waited < ms; ) {
    const slice = Math.min(SUPERSEDED_CHECK_MS, ms - waited);
    await effects.sleep(slice);
    waited += slice;
    if (effects.superseded?.() === true) return true;
  }
  return false;
}

/** The timer units among file paths to delete: they must be stopped before their files go. */
export function timerUnitsAmong(paths: readonly string[]): string[] {
  return paths.filter((path) => path.endsWith('.timer')).map((path) => path.slice(path.lastIndexOf('/') + 1));
}

/** Old releases go only once the new one is healthy, so a rollback right after still needs no upload. */
async function keepRecentReleases(input: HostStepInput, effects: RolloutEffects): Promise<void> {
  const { step, service, host } = input;
  if (step.package !== undefined) await keepRecentPackages(effects.pool, host, step.package, effects.keepReleases).catch(() => undefined);
  if (step.release === undefined || service.run.kind === 'package') return;
  await pruneReleases(effects.pool, host, service.name, effects.keepReleases, [step.release]).catch(() => undefined);
}
