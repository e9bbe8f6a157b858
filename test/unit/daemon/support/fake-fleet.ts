import { createHash } from 'node:crypto';
import type { ObservedHost, ObservedService } from '../../../../src/hosts/index.js';
import type { Fleet, FleetEffects } from '../../../../src/pass/index.js';
import type { HostStep, KnownRun, ServicePlan } from '../../../../src/plan/index.js';
import type { ApplyInput, ApplyResult, HostStepResult, ServiceRolloutResult, StepPhase } from '../../../../src/rollout/index.js';
import type { HostSpec, ServiceSpec } from '../../../../src/spec/model.js';

/** How a version behaves once started, read from its artifact: `BEHAVIOUR=crash` or `BEHAVIOUR=unhealthy`. */
export type Behaviour = 'healthy' | 'crash' | 'unhealthy';

interface RunningService {
  files: Map<string, string>;
  release: string | undefined;
  invocationId: string;
  nRestarts: number;
  /** The artifact's VERSION= line, for assertions. */
  version: string | undefined;
}

/**
 * Hosts as plain data: what each runs (files by hash, release, the unit's run), which are reachable, and
 * how each version behaves. `observe` reports exactly that state, and `apply` changes it step by step as
 * the real rollout would, emitting the same progress phases, so the reconciler's crash points fire here too.
 */
export class FakeFleet implements Fleet {
  readonly #hosts = new Map<string, Map<string, RunningService>>();
  readonly unreachable = new Set<string>();
  /** Every `systemctl restart` of a unit, as `service@host`. */
  readonly restarts: string[] = [];
  /** Every apply: which services acted (a rollout attempt each). */
  readonly applies: string[][] = [];
  /** Every apply: per service, whether its change failure would stop the other services of the apply. */
  readonly failureStopsOthers: Record<string, boolean>[] = [];
  #runs = 0;
  /** How often tend forgot the hosts that refused it (a new commit, `tend retry`). */
  forgotten = 0;

  forgetRefusals(): void {
    this.forgotten += 1;
  }

  /** The host limit of the loaded commit's tend.yml. */
  concurrency: number | undefined;

  setConcurrency(hosts: number): void {
    this.concurrency = hosts;
  }

  /** What a host runs of a service now: its VERSION= line, or undefined. */
  versionOn(host: string, service: string): string | undefined {
    return this.#hosts.get(host)?.get(service)?.version;
  }

  /** The hosts each observation looked at. */
  readonly observations: string[][] = [];

  async observe(hosts: readonly HostSpec[]): Promise<ReadonlyMap<string, ObservedHost>> {
    this.observations.push(hosts.map((host) => host.name));
    const out = new Map<string, ObservedHost>();
    for (const host of hosts) {
      if (this.unreachable.has(host.name)) {
        out.set(host.name, { host: host.name, reachable: false, code: 'E_HOST_UNREACHABLE', errorClass: 'transient', message: `${host.name}: connect ECONNREFUSED` });
        continue;
      }
      const services = new Map<string, ObservedService>();
      for (const [name, running] of this.#hosts.get(host.name) ?? []) {
        services.set(name, {
          service: name,
          files: new Map(running.files),
          currentRelease: running.release,
          releases: running.release === undefined ? [] : [running.release],
          unit: { activeState: 'active', subState: 'running', invocationId: running.invocationId, nRestarts: running.nRestarts, needDaemonReload: false, mainPid: 42, unitFileState: 'enabled' },
        });
      }
      out.set(host.name, { host: host.name, reachable: true, services, foreignUnits: [] });
    }
    return out;
  }

  async apply(input: ApplyInput, effects: FleetEffects): Promise<ApplyResult> {
    const services: ServiceRolloutResult[] = [];
    this.applies.push(input.plan.services.filter((one) => one.batches.length > 0 || one.unreachable.length > 0).map((one) => one.service));
    this.failureStopsOthers.push(Object.fromEntries(input.repo.services.map((spec) => [spec.name, effects.changeFailureStopsOthers?.(spec) === true])));
    for (const plan of input.plan.services) {
      const spec = input.repo.services.find((one) => one.name === plan.service);
      if (spec === undefined) throw new Error(`no spec for ${plan.service}`);
      const blocked = plan.waitsFor.filter((name) => {
        const result = services.find((one) => one.service === name)?.result;
        return result !== undefined && result !== 'succeeded' && result !== 'unchanged';
      });
      if (blocked.length > 0) {
        services.push({ service: plan.service, result: 'skipped', code: 'E_DEPENDENCY_NOT_HEALTHY', detail: `waits for ${blocked.join(', ')}`, outcome: undefined, steps: [] });
        continue;
      }
      services.push(await this.#rollOut(plan, spec, input, effects));
    }
    return { services, pruned: [], ok: services.every((one) => one.result === 'succeeded' || one.result === 'unchanged') };
  }

  async #rollOut(plan: ServicePlan, spec: ServiceSpec, input: ApplyInput, effects: FleetEffects): Promise<ServiceRolloutResult> {
    if (plan.batches.length === 0 && plan.unreachable.length === 0) return { service: spec.name, result: 'unchanged', code: undefined, detail: 'nothing to change', outcome: undefined, steps: [] };
    const first = plan.unreachable[0];
    if (first !== undefined) return transient(spec.name, first.host, first.message, effects.now(), []);
    const steps: HostStepResult[] = [];
    for (const batch of plan.batches) {
      if (effects.superseded?.() === true) return superseded(spec.name, steps);
      for (const step of batch) {
        if (this.unreachable.has(step.host)) return transient(spec.name, step.host, `${step.host}: connection lost`, effects.now(), steps);
        const result = await this.#step(step, spec, input, effects);
        steps.push(result);
        if (result.outcome === 'superseded') return superseded(spec.name, steps);
        if (result.outcome === 'failed') {
          return {
            service: spec.name,
            result: 'failed-change',
            code: 'E_CANARY_FAILED',
            detail: `${step.host}: ${result.detail}`,
            outcome: { result: 'failed-change', cause: { host: step.host, at: result.endedAt, errorClass: 'change', code: result.code, detail: result.detail }, evidence: [] },
            steps,
          };
        }
      }
    }
    return { service: spec.name, result: 'succeeded', code: undefined, detail: 'all hosts healthy', outcome: { result: 'succeeded', cause: undefined, evidence: [] }, steps };
  }

  async #step(step: HostStep, spec: ServiceSpec, input: ApplyInput, effects: FleetEffects): Promise<HostStepResult> {
    const startedAt = effects.now();
    const progress = (phase: StepPhase, run?: KnownRun): void => effects.onProgress({ service: spec.name, host: step.host, phase, detail: phase, ...(run === undefined ? {} : { run }) });
    const artifact = new TextDecoder().decode(await effects.readArtifact(spec));
    const behaviour: Behaviour = artifact.includes('BEHAVIOUR=crash') ? 'crash' : artifact.includes('BEHAVIOUR=unhealthy') ? 'unhealthy' : 'healthy';
    const onHost = this.#hosts.get(step.host) ?? new Map<string, RunningService>();
    this.#hosts.set(step.host, onHost);
    let run: KnownRun;
    if (step.judgeRun !== undefined) {
      run = step.judgeRun;
    } else {
      if (step.release !== undefined && !step.releasePresent) progress('stage');
      progress('write');
      const running = onHost.get(spec.name) ?? { files: new Map(), release: undefined, invocationId: '', nRestarts: 0, version: undefined };
      for (const write of step.writes) running.files.set(write.path, write.sha256);
      for (const path of step.deletes) running.files.delete(path);
      if (step.needsDaemonReload) progress('reload');
      if (step.release !== undefined) {
        progress('switch');
        running.release = step.release;
      }
      running.version = /VERSION=(\S+)/.exec(artifact)?.[1];
      onHost.set(spec.name, running);
      progress('restart');
      this.#runs += 1;
      running.invocationId = createHash('md5').update(`run-${this.#runs}`).digest('hex');
      running.nRestarts = 0;
      this.restarts.push(`${spec.name}@${step.host}`);
      run = { invocationId: running.invocationId, nRestarts: 0, restartedAt: effects.now() };
    }
    const timing = spec.deploy.timing;
    const finish = (outcome: HostStepResult['outcome'], code: string, detail: string): HostStepResult => ({
      service: spec.name,
      host: step.host,
      action: step.action,
      outcome,
      code,
      errorClass: outcome === 'failed' ? 'change' : undefined,
      detail,
      hint: undefined,
      lastProbe: outcome === 'healthy' ? { ok: true, status: 200, latencyMs: 3 } : { ok: false, status: 500, latencyMs: 3 },
      journal: undefined,
      startedAt,
      endedAt: effects.now(),
    });
    for (;;) {
      progress('probe', run);
      if (behaviour === 'crash') {
        progress('failed');
        return finish('failed', 'E_UNIT_FAILED', 'the new run failed (failed/failed)');
      }
      if (behaviour === 'healthy') {
        await effects.sleep(timing.minHealthyTime);
        progress('healthy');
        return finish('healthy', 'HEALTHY', 'passed its probe');
      }
      if (effects.now() >= run.restartedAt + timing.healthyDeadline) {
        progress('failed');
        return finish('failed', 'E_HEALTHY_DEADLINE', `not healthy within ${timing.healthyDeadline} ms of the restart`);
      }
      if (effects.superseded?.() === true) return finish('superseded', 'E_SUPERSEDED', 'superseded');
      await effects.sleep(timing.interval);
    }
  }
}

function transient(service: string, host: string, detail: string, at: number, steps: readonly HostStepResult[]): ServiceRolloutResult {
  return {
    service,
    result: 'failed-transient',
    code: 'E_FAILURE_BUDGET',
    detail,
    outcome: { result: 'failed-transient', cause: { host, at, errorClass: 'transient', code: 'E_HOST_UNREACHABLE', detail }, evidence: [] },
    steps,
  };
}

function superseded(service: string, steps: readonly HostStepResult[]): ServiceRolloutResult {
  return { service, result: 'superseded', code: 'E_SUPERSEDED', detail: 'a newer commit superseded this rollout', outcome: undefined, steps };
}
