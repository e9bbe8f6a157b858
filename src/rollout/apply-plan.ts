import { InternalError } from '../errors/index.js';
import type { ObservedHost } from '../hosts/index.js';
import { removeFiles, stopAndDisableUnits } from '../hosts/index.js';
import type { HostStep, Plan, ServicePlan } from '../plan/model.js';
import { releaseDir, unitName, type RenderedService } from '../render/index.js';
import type { RepoSpec, ServiceSpec } from '../spec/model.js';
import { runHostStep, timerUnitsAmong, type HostStepResult, type RolloutEffects } from './host-step-effects.js';
import { startAptSession, type AptSession } from './package-step.js';
import { decideRollout, recordRolloutEvent, startRollout, type RolloutOutcome } from './progress-decision.js';
import { scheduleServices, type ServiceProgress } from './service-schedule.js';

export interface ServiceRolloutResult {
  readonly service: string;
  /**
   * `skipped` when a service it waits for did not become healthy in this apply; `superseded` when a newer
   * commit stopped the apply before or during this service (no verdict on the change).
   */
  readonly result: RolloutOutcome['result'] | 'skipped' | 'unchanged' | 'superseded';
  readonly code: string | undefined;
  readonly detail: string;
  readonly outcome: RolloutOutcome | undefined;
  readonly steps: readonly HostStepResult[];
}

export interface ApplyResult {
  readonly services: readonly ServiceRolloutResult[];
  readonly pruned: readonly { readonly host: string; readonly service: string; readonly ok: boolean; readonly detail: string }[];
  /** True when every service succeeded or had nothing to do. */
  readonly ok: boolean;
}

export interface ApplyInput {
  readonly repo: RepoSpec;
  readonly plan: Plan;
  readonly observed: ReadonlyMap<string, ObservedHost>;
  /** Resolved renders by host: each host's services as renderHost gave them. */
  readonly rendered: ReadonlyMap<string, readonly RenderedService<'resolved'>[]>;
}

/**
 * Carries out a plan: each service in its batches as the pure progress decision says, services side by side
 * as `scheduleServices` allows (the `after:` order kept, at most tend.yml `parallel_services` at once),
 * stopping a service at its budget and skipping what comes after a service that did not become healthy.
 */
export async function applyPlan(input: ApplyInput, effects: RolloutEffects): Promise<ApplyResult> {
  const specs = new Map(input.repo.services.map((service) => [service.name, service]));
  const progress = new Map<string, ServiceProgress>();
  const results = new Map<string, ServiceRolloutResult>();
  const running = new Map<string, Promise<void>>();
  let failure: unknown;
  // A change failure that tend will revert makes the rest of this apply pointless: the others stop at their
  // next safe point, so the revert does not wait for rollouts it is about to change anyway.
  let stopAll = false;
  const stopped = (): boolean => stopAll || effects.superseded?.() === true;
  const apt = startAptSession(input.repo.settings.aptRepositories);
  for (;;) {
    const step = scheduleServices(input.plan.services, progress, input.repo.settings.parallelServices);
    for (const { service, blockedBy } of step.skip) {
      progress.set(service, 'failed');
      results.set(service, { service, result: 'skipped', code: 'E_DEPENDENCY_NOT_HEALTHY', detail: `waits for ${blockedBy.join(', ')}, which did not become healthy`, outcome: undefined, steps: [] });
    }
    for (const service of step.start) {
      const spec = specs.get(service);
      const plan = input.plan.services.find((one) => one.service === service);
      if (spec === undefined || plan === undefined) throw new InternalError(`the plan names ${service}, which is not in the repo`);
      if (stopped()) {
        progress.set(service, 'failed');
        results.set(service, supersededResult(service, []));
        continue;
      }
      progress.set(service, 'running');
      const done = rollOutService(spec, plan, input, { ...effects, superseded: stopped }, apt).then(
        (result) => {
          results.set(service, result);
          progress.set(service, result.result === 'succeeded' || result.result === 'unchanged' ? 'healthy' : 'failed');
          if (result.result === 'failed-change' && effects.changeFailureStopsOthers?.(spec) === true) stopAll = true;
        },
        (error: unknown) => {
          failure ??= error;
          progress.set(service, 'failed');
        },
      );
      running.set(service, done.finally(() => running.delete(service)));
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  if (failure !== undefined) throw failure;
  const services = input.plan.services.map((one) => results.get(one.service) ?? supersededResult(one.service, []));
  // Prunes follow the commit being applied; a superseded apply leaves them to the newer commit's plan.
  const pruned = services.some((service) => service.result === 'superseded') ? [] : await applyPrunes(input, effects);
  return {
    services,
    pruned,
    ok: services.every((service) => service.result === 'succeeded' || service.result === 'unchanged') && pruned.every((prune) => prune.ok),
  };
}

async function rollOutService(spec: ServiceSpec, plan: ServicePlan, input: ApplyInput, effects: RolloutEffects, apt: AptSession): Promise<ServiceRolloutResult> {
  if (plan.batches.length === 0 && plan.unreachable.length === 0 && plan.blocked.length === 0) {
    return { service: spec.name, result: 'unchanged', code: undefined, detail: 'nothing to change', outcome: undefined, steps: [] };
  }
  const steps: HostStepResult[] = [];
  const stepsByHost = new Map(plan.batches.flat().map((step) => [step.host, step]));
  let state = startRollout(plan, { canary: spec.deploy.canary, maxFailedHosts: spec.deploy.maxFailedHosts, progressDeadline: spec.deploy.timing.progressDeadline }, effects.now());
  for (;;) {
    const decision = decideRollout(state, effects.now());
    switch (decision.kind) {
      case 'start-batch': {
        if (effects.superseded?.() === true) return supersededResult(spec.name, steps);
        for (const host of decision.hosts) state = recordRolloutEvent(state, { type: 'host-started', host, at: effects.now() });
        const batchResults = await Promise.all(decision.hosts.map((host) => runStep(stepsByHost.get(host), spec, input, effects, apt)));
        for (const result of batchResults) steps.push(result);
        if (batchResults.some((result) => result.outcome === 'superseded')) return supersededResult(spec.name, steps);
        for (const result of batchResults) state = recordRolloutEvent(state, eventOf(result));
        break;
      }
      case 'wait':
        // Every host step runs to its own verdict before the next decision, so nothing is in flight here.
        throw new InternalError(`rollout of ${spec.name} waits on ${decision.inFlight.join(', ')} with no step running`);
      case 'stop':
        return {
          service: spec.name,
          result: decision.outcome.result,
          code: decision.code,
          detail: decision.detail,
          outcome: decision.outcome,
          steps,
        };
      case 'done':
        return { service: spec.name, result: decision.outcome.result, code: undefined, detail: 'all hosts healthy', outcome: decision.outcome, steps };
    }
  }
}

function runStep(step: HostStep | undefined, spec: ServiceSpec, input: ApplyInput, effects: RolloutEffects, apt: AptSession): Promise<HostStepResult> {
  if (step === undefined) throw new InternalError(`a batch of ${spec.name} names a host without a step`);
  const host = input.repo.inventory.hosts.find((candidate) => candidate.name === step.host);
  const rendered = input.rendered.get(step.host)?.find((one) => one.service === spec.name);
  if (host === undefined || rendered === undefined) throw new InternalError(`no host or render for ${spec.name} on ${step.host}`);
  const observed = input.observed.get(step.host);
  const before = observed?.reachable === true ? observed.services.get(spec.name)?.unit : undefined;
  return runHostStep({ step, service: spec, host, rendered, before, apt }, effects);
}

function supersededResult(service: string, steps: readonly HostStepResult[]): ServiceRolloutResult {
  return { service, result: 'superseded', code: 'E_SUPERSEDED', detail: 'a newer commit superseded this rollout', outcome: undefined, steps };
}

function eventOf(result: HostStepResult): Parameters<typeof recordRolloutEvent>[1] {
  const at = result.endedAt;
  switch (result.outcome) {
    case 'superseded':
      throw new InternalError(`a superseded step of ${result.service} on ${result.host} reached the rollout decision`);
    case 'healthy':
      return { type: 'host-healthy', host: result.host, at };
    case 'unreachable':
      return { type: 'host-unreachable', host: result.host, at, code: result.code, detail: result.detail };
    case 'failed':
      return { type: 'host-failed', host: result.host, at, errorClass: result.errorClass ?? 'change', code: result.code, detail: result.detail };
  }
}

/** A pruned service: stop and disable its units, then remove its files and releases. */
async function applyPrunes(input: ApplyInput, effects: RolloutEffects): Promise<ApplyResult['pruned']> {
  const done: { host: string; service: string; ok: boolean; detail: string }[] = [];
  for (const step of input.plan.prunes) {
    const target = input.repo.inventory.hosts.find((host) => host.name === step.host);
    if (target === undefined) throw new InternalError(`the plan prunes on ${step.host}, which is not in the inventory`);
    try {
      await stopAndDisableUnits(effects.pool, target, [...timerUnitsAmong(step.deletes), unitName(step.service)]);
      await removeFiles(effects.pool, target, step.deletes);
      await effects.pool.run(target, ['rm', '-rf', '--', releaseDir(step.service)], { sudo: true });
      done.push({ host: step.host, service: step.service, ok: true, detail: 'removed' });
    } catch (error) {
      done.push({ host: step.host, service: step.service, ok: false, detail: error instanceof Error ? error.message : String(error) });
    }
  }
  return done;
}

