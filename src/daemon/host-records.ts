import type { ObservedHost, ObservedService } from '../hosts/index.js';
import type { HostStep, Plan } from '../plan/index.js';
import type { HostStepResult } from '../rollout/index.js';
import type { HostProbe, HostRecord, HostState, Journal } from '../state/index.js';

/** What one pass learned about the hosts: what it observed, what it planned, and what each step did. */
export interface HostPassFacts {
  readonly head: string;
  /** Every service of the loaded commit: the records of any other service are dropped. */
  readonly services: readonly string[];
  /** The plan before any service was held back, so a held service's differing hosts show as pending. */
  readonly plan: Plan;
  readonly observed: ReadonlyMap<string, ObservedHost>;
  readonly steps: readonly HostStepResult[];
  readonly now: number;
}

/**
 * The per-host rows of status after a pass: for every placement of a service the pass planned, the commit
 * and version the host runs, its state, unit and last probe. A host a step judged is what the step found; a
 * host the plan left alone runs the head; one still differing keeps its old commit. Services the pass did
 * not look at keep what an earlier pass saw. `since` moves only when the state or the commit changes.
 */
export function hostsAfterPass(previous: Journal['hosts'], facts: HostPassFacts): Journal['hosts'] {
  const wanted = new Set(facts.services);
  const next: Record<string, Record<string, HostRecord>> = {};
  for (const [service, hosts] of Object.entries(previous)) if (wanted.has(service)) next[service] = { ...hosts };
  const results = new Map(facts.steps.map((step) => [`${step.service}@${step.host}`, step]));
  for (const plan of facts.plan.services) {
    if (!wanted.has(plan.service)) continue;
    const before = previous[plan.service] ?? {};
    const records: Record<string, HostRecord> = {};
    const steps = new Map(plan.batches.flat().map((step) => [step.host, step]));
    const unreachable = new Set(plan.unreachable.map((one) => one.host));
    const blocked = new Set(plan.blocked.map((one) => one.host));
    for (const host of [...steps.keys(), ...plan.unchanged, ...unreachable, ...blocked]) {
      const seen = facts.observed.get(host);
      const observed = seen?.reachable === true ? seen.services.get(plan.service) : undefined;
      const fields = fieldsOf({
        head: facts.head,
        previous: before[host],
        observed,
        step: steps.get(host),
        result: results.get(`${plan.service}@${host}`),
        unreachable: unreachable.has(host) || seen?.reachable === false,
        blocked: blocked.has(host),
      });
      const previous = before[host];
      const same = previous !== undefined && previous.commit === fields.commit && settled(previous.state) === settled(fields.state);
      records[host] = { ...fields, since: same ? previous.since : facts.now, observedAt: facts.now };
    }
    next[plan.service] = records;
  }
  return next;
}

type Fields = Omit<HostRecord, 'since' | 'observedAt'>;

function fieldsOf(input: {
  readonly head: string;
  readonly previous: HostRecord | undefined;
  readonly observed: ObservedService | undefined;
  readonly step: HostStep | undefined;
  readonly result: HostStepResult | undefined;
  readonly unreachable: boolean;
  readonly blocked: boolean;
}): Fields {
  const { head, previous, observed, step, result } = input;
  const unit = observed === undefined ? previous?.unit : `${observed.unit.activeState}/${observed.unit.subState}`;
  const version = observed === undefined ? previous?.version : versionOf(observed);
  const lastProbe = result?.lastProbe === undefined ? previous?.lastProbe : probeOf(result);
  const kept = { commit: previous?.commit, version, unit, lastProbe };
  if (result !== undefined && step !== undefined) {
    switch (result.outcome) {
      case 'healthy':
        return { commit: head, version: versionAfter(step, version), state: 'healthy', unit: 'active/running', lastProbe };
      case 'failed':
        // Only a change failure means the new version ran; a step that failed before the restart left the old one.
        return result.errorClass === 'change' ? { commit: head, version: versionAfter(step, version), state: 'failed', unit: undefined, lastProbe } : { ...kept, state: 'failed' };
      case 'unreachable':
        return { ...kept, state: 'unreachable' };
      case 'superseded':
        return { commit: head, version: versionAfter(step, version), state: 'pending', unit: undefined, lastProbe };
    }
  }
  if (input.unreachable) return { ...kept, state: 'unreachable' };
  if (input.blocked || step !== undefined) return { ...kept, state: 'pending' };
  return { commit: head, version, state: unitState(observed), unit, lastProbe };
}

/** A host in line with the commit: its unit decides whether it is up. */
function unitState(observed: ObservedService | undefined): HostState {
  const active = observed?.unit.activeState;
  if (active === 'active') return 'synced';
  return active === 'failed' ? 'failed' : 'inactive';
}

/** Proven healthy by a probe and found in line later are one stretch of being fine. */
function settled(state: HostState): string {
  return state === 'healthy' ? 'synced' : state;
}

function versionOf(observed: ObservedService): string | undefined {
  return observed.installedPackage?.version ?? observed.currentRelease?.slice(0, 12);
}

/** The version a step installs: the package version, the release switched to, or (files only) the same. */
function versionAfter(step: HostStep, before: string | undefined): string | undefined {
  if (step.package !== undefined) return step.package.to;
  if (step.release !== undefined) return step.release.slice(0, 12);
  return before;
}

function probeOf(result: HostStepResult): HostProbe | undefined {
  const probe = result.lastProbe;
  if (probe === undefined) return undefined;
  return { ok: probe.ok, at: result.endedAt, latencyMs: probe.latencyMs, status: probe.status, error: probe.error };
}
