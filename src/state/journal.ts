import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';

import { InternalError, TendError } from '../errors/index.js';
import type { ErrorClass, Issue } from '../errors/index.js';
import type { RevertEvidence } from '../rollback/index.js';
import { writeFileAtomically } from './atomic-file.js';
import { errnoOf, fsErrorClass } from './fs-errors.js';

/**
 * The daemon's memory of what git and the hosts cannot tell it after a restart: which commit last
 * converged, which commits are known bad (so a bad commit is reverted at most once), the rollout that was
 * running, and what is halted waiting for a person. Plain data, written whole and atomically after every
 * change; `schemas/journal.schema.json` is its exact shape on disk.
 */
export interface Journal {
  readonly version: 1;
  /** Which repository and branch this journal belongs to (see `describeSource`); another source's is not used. */
  readonly source: string;
  /** Head commit whose rollout fully converged. */
  readonly lastApplied: string | undefined;
  /** Head commit tend last started to roll out, converged or not. */
  readonly lastAttempted: string | undefined;
  readonly services: Readonly<Record<string, ServiceRecord>>;
  /** Keyed by the bad commit. */
  readonly knownBad: Readonly<Record<string, KnownBad>>;
  readonly inFlight: InFlightRollout | undefined;
  /** Keyed by service name, or `*` when everything is halted. */
  readonly halted: Readonly<Record<string, Halt>>;
  /** Head commit an operator acknowledged after E_HISTORY_REWRITTEN. */
  readonly acknowledgedRewrite: string | undefined;
  /** Services a person paused, keyed by service name. */
  readonly paused: Readonly<Record<string, Pause>>;
  /** The transient-failure budget per service (or `*`), counted per head commit. */
  readonly retries: Readonly<Record<string, RetryBudget>>;
  /** What on-call sees of each service of the last loaded commit; status is rebuilt from it after a restart. */
  readonly conditions: Readonly<Record<string, ServiceCondition>>;
  /** Finished rollouts, one record per service, oldest first; bounded (`appendRollouts` drops the oldest). */
  readonly rollouts: readonly RolloutRecord[];
  /** Per service and host, what the last pass that looked at it saw there (`hostsAfterPass`). */
  readonly hosts: Readonly<Record<string, Readonly<Record<string, HostRecord>>>>;
}

/** How a service's rollout of a commit ended. */
export type RolloutResult = 'succeeded' | 'failed-change' | 'failed-transient' | 'failed-conflict' | 'failed-invalid' | 'failed-internal' | 'superseded';

/** One service's rollout of one commit, as `tend history` and the status page show it. */
export interface RolloutRecord {
  readonly rolloutId: string;
  readonly service: string;
  readonly commit: string;
  /** From git, so history reads without the repo: the commit's subject and `Name <email>` of its author. */
  readonly subject: string;
  readonly author: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly result: RolloutResult;
  /** The reason code of a result other than succeeded. */
  readonly code: string | undefined;
  /** Hosts where the rollout failed or that could not be reached. */
  readonly failedHosts: readonly string[];
  /** For a rollout of tend's own revert commit: the bad commit it reverts. */
  readonly reverts: string | undefined;
  /** For a failed change: the revert commit tend pushed for it, once pushed. */
  readonly revertCommit: string | undefined;
}

/**
 * What one host runs of one service. `healthy`/`failed`: a rollout step judged it in the last pass;
 * `synced`: observed matching the commit with its unit active; `inactive`: matching, unit not active;
 * `pending`: differs from the commit and was not (yet) changed; `unreachable`: could not be looked at.
 */
export type HostState = 'healthy' | 'synced' | 'failed' | 'inactive' | 'pending' | 'unreachable';

export interface HostRecord {
  /** The commit the host's files of the service come from, as far as tend knows. */
  readonly commit: string | undefined;
  /** The installed package version, or the first 12 hex digits of the release sha256. */
  readonly version: string | undefined;
  readonly state: HostState;
  /** The unit's `ActiveState/SubState` as last observed, e.g. `active/running`. */
  readonly unit: string | undefined;
  /** The last probe tend ran on the host for the service. */
  readonly lastProbe: HostProbe | undefined;
  /** When the host entered this state at this commit; it does not move while both hold. */
  readonly since: number;
  /** When a pass last looked at the host. */
  readonly observedAt: number;
}

export interface HostProbe {
  readonly ok: boolean;
  readonly at: number;
  readonly latencyMs: number;
  readonly status: number | undefined;
  readonly error: string | undefined;
}

/**
 * Attempts at one head commit that failed transiently. Only a new commit starts a new budget; `tend retry`
 * and each scheduled resync grant one attempt more (`allowed`), so a host coming back is noticed, boundedly.
 */
export interface RetryBudget {
  readonly commit: string;
  readonly attempts: number;
  readonly allowed: number;
  readonly code: string;
  readonly detail: string;
  readonly lastAt: number;
  /** When the backoff ends; undefined once the budget is spent. */
  readonly nextAt: number | undefined;
}

/** The states a pass decides; `Paused` is not one of them, it follows from `paused` and the clock. */
export type ConditionState = 'Synced' | 'Progressing' | 'Degraded' | 'RolledBack' | 'Stalled' | 'Waiting' | 'Drifted';

export interface ServiceCondition {
  readonly state: ConditionState;
  readonly code: string | undefined;
  readonly errorClass: ErrorClass | undefined;
  readonly message: string;
  readonly hint: string | undefined;
  /** When the service entered this state and code (ms since epoch); it does not move while they hold. */
  readonly since: number;
  readonly desiredCommit: string | undefined;
  readonly revertCommit: string | undefined;
  readonly nextAttemptAt: number | undefined;
  readonly failedHosts: readonly string[] | undefined;
  readonly window: string | undefined;
}

export interface Pause {
  readonly owner: string;
  readonly reason: string;
  readonly since: number;
  /** When the pause was meant to end; past it the pause still holds and is reported as expired. */
  readonly until: number;
}

export interface ServiceRecord {
  /** Last commit at which the service was proven healthy on every host. */
  readonly stableCommit: string;
  /** Milliseconds since the epoch. */
  readonly since: number;
}

export interface KnownBad {
  readonly service: string;
  readonly code: string;
  readonly at: number;
  /** The revert commit tend pushed for it, once there is one. */
  readonly revertedBy: string | undefined;
  readonly rolloutId: string;
}

export type RolloutPhase = 'rolling' | 'reverting' | 'pushed-revert';

export interface InFlightRollout {
  readonly rolloutId: string;
  readonly commit: string;
  readonly startedAt: number;
  readonly phase: RolloutPhase;
  /** Per service, the hosts this rollout set out to change. */
  readonly planned: Readonly<Record<string, readonly string[]>>;
  /** Per service, the hosts already proven healthy at `commit`: a resumed rollout need not wait on them again. */
  readonly verified: Readonly<Record<string, readonly string[]>>;
  /** While reverting: the failed service and the evidence the revert commit carries, so a restart can finish it. */
  readonly revert: { readonly service: string; readonly evidence: RevertEvidence } | undefined;
  /**
   * Per service and host, the new run this rollout started: a restarted tend that finds the same run goes on
   * judging it from `restartedAt` instead of restarting it, so healthy_deadline never restarts with tend.
   */
  readonly runs: Readonly<Record<string, Readonly<Record<string, RecordedRun>>>>;
}

export interface RecordedRun {
  readonly invocationId: string;
  /** NRestarts when the run was first seen: a restart of the run after that is a failure of the version. */
  readonly nRestarts: number;
  readonly restartedAt: number;
}

export interface Halt {
  readonly code: string;
  readonly errorClass: ErrorClass;
  readonly message: string;
  readonly hint: string | undefined;
  /** The head commit the halt was decided at. */
  readonly commit: string | undefined;
  readonly since: number;
  /** What lifts it: any newer commit, or only a person (`tend retry` / `tend ack`). */
  readonly until: 'new-commit' | 'operator';
  /** For an invalid commit: every problem, so status shows them after a restart too. */
  readonly issues: readonly Issue[];
}

export type JournalReadResult =
  | { readonly kind: 'ok'; readonly journal: Journal }
  | { readonly kind: 'missing' }
  | { readonly kind: 'corrupt'; readonly reason: string }
  | { readonly kind: 'other-source'; readonly found: string };

export function journalPath(stateDir: string): string {
  return join(stateDir, 'journal.json');
}

export function emptyJournal(source: string): Journal {
  return {
    version: 1,
    source,
    lastApplied: undefined,
    lastAttempted: undefined,
    services: {},
    knownBad: {},
    inFlight: undefined,
    halted: {},
    acknowledgedRewrite: undefined,
    paused: {},
    retries: {},
    conditions: {},
    rollouts: [],
    hosts: {},
  };
}

/**
 * A journal holds a few hundred entries at most; anything this large is not one tend wrote, and reading
 * it whole would only spend the daemon's memory.
 */
const MAX_JOURNAL_BYTES = 16 * 1024 * 1024;

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (compiled === undefined) {
    // schemas/ sits two levels above this file both in src/state and in dist/state.
    const schema = JSON.parse(readFileSync(new URL('../../schemas/journal.schema.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    compiled = new Ajv2020({ strict: true }).compile(schema);
  }
  return compiled;
}

function reasonOf(error: ErrorObject): string {
  const where = error.instancePath === '' ? 'the top level' : error.instancePath;
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') return `${where}: unknown field ${JSON.stringify(params['additionalProperty'])}`;
  // ajv reports a bad key twice: first the key's own failure (with `propertyName`), then `propertyNames`.
  if (error.propertyName !== undefined) return `${where}: key ${JSON.stringify(error.propertyName)} ${error.message ?? 'is not valid'}`;
  return `${where}: ${error.message ?? `fails ${error.keyword}`}`;
}

/** Why `value` is not a journal this tend reads, or undefined when it is one. */
function journalProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'the content is not a JSON object';
  const version = (value as Record<string, unknown>)['version'];
  if (version !== 1) return `version ${JSON.stringify(version) ?? 'missing'} is not one this tend reads (it reads version 1)`;
  const validate = validator();
  if (validate(value)) return undefined;
  const first = validate.errors?.[0];
  return first === undefined ? 'the content does not match the journal schema' : reasonOf(first);
}

/** A type as JSON holds it: fields that may be `undefined` are absent instead. */
type Stored<T> = { readonly [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined> } & {
  readonly [K in keyof T as undefined extends T[K] ? never : K]: T[K];
};

type StoredJournal = Stored<Omit<Journal, 'knownBad' | 'inFlight' | 'halted' | 'paused' | 'retries' | 'conditions' | 'rollouts' | 'hosts'>> & {
  // Journals written before these fields existed lack them.
  readonly rollouts?: readonly Stored<RolloutRecord>[];
  readonly hosts?: Readonly<Record<string, Readonly<Record<string, Stored<Omit<HostRecord, 'lastProbe'>> & { readonly lastProbe?: Stored<HostProbe> }>>>>;
  readonly paused?: Readonly<Record<string, Pause>>;
  readonly retries?: Readonly<Record<string, Stored<RetryBudget>>>;
  readonly conditions?: Readonly<Record<string, Stored<ServiceCondition>>>;
  readonly knownBad: Readonly<Record<string, Stored<KnownBad>>>;
  readonly inFlight?: Stored<Omit<InFlightRollout, 'revert' | 'runs'>> & {
    readonly revert?: { readonly service: string; readonly evidence: Stored<RevertEvidence> };
    readonly runs?: InFlightRollout['runs'];
  };
  readonly halted: Readonly<Record<string, Stored<Omit<Halt, 'issues'>> & { readonly issues?: readonly Issue[] }>>;
};

/** Absent fields become explicit `undefined`, so every journal in memory has the same keys. */
function fromStored(stored: StoredJournal): Journal {
  const inFlight = stored.inFlight;
  return {
    version: 1,
    source: stored.source,
    lastApplied: stored.lastApplied,
    lastAttempted: stored.lastAttempted,
    services: stored.services,
    knownBad: Object.fromEntries(
      Object.entries(stored.knownBad).map(([commit, bad]) => [
        commit,
        { service: bad.service, code: bad.code, at: bad.at, revertedBy: bad.revertedBy, rolloutId: bad.rolloutId },
      ]),
    ),
    inFlight:
      inFlight === undefined
        ? undefined
        : {
            rolloutId: inFlight.rolloutId,
            commit: inFlight.commit,
            startedAt: inFlight.startedAt,
            phase: inFlight.phase,
            planned: inFlight.planned,
            verified: inFlight.verified,
            revert:
              inFlight.revert === undefined
                ? undefined
                : { service: inFlight.revert.service, evidence: { ...inFlight.revert.evidence, probe: inFlight.revert.evidence.probe } },
            runs: inFlight.runs ?? {},
          },
    halted: Object.fromEntries(
      Object.entries(stored.halted).map(([name, halt]) => [
        name,
        { code: halt.code, errorClass: halt.errorClass, message: halt.message, hint: halt.hint, commit: halt.commit, since: halt.since, until: halt.until, issues: halt.issues ?? [] },
      ]),
    ),
    acknowledgedRewrite: stored.acknowledgedRewrite,
    paused: stored.paused ?? {},
    retries: mapValues(stored.retries ?? {}, (budget) => ({ ...budget, nextAt: budget.nextAt })),
    conditions: mapValues(stored.conditions ?? {}, (condition) => ({
      state: condition.state,
      code: condition.code,
      errorClass: condition.errorClass,
      message: condition.message,
      hint: condition.hint,
      since: condition.since,
      desiredCommit: condition.desiredCommit,
      revertCommit: condition.revertCommit,
      nextAttemptAt: condition.nextAttemptAt,
      failedHosts: condition.failedHosts,
      window: condition.window,
    })),
    rollouts: (stored.rollouts ?? []).map((record) => ({
      rolloutId: record.rolloutId,
      service: record.service,
      commit: record.commit,
      subject: record.subject,
      author: record.author,
      startedAt: record.startedAt,
      endedAt: record.endedAt,
      result: record.result,
      code: record.code,
      failedHosts: record.failedHosts,
      reverts: record.reverts,
      revertCommit: record.revertCommit,
    })),
    hosts: mapValues(stored.hosts ?? {}, (hosts) =>
      mapValues(hosts, (host) => ({
        commit: host.commit,
        version: host.version,
        state: host.state,
        unit: host.unit,
        lastProbe: host.lastProbe === undefined ? undefined : { ok: host.lastProbe.ok, at: host.lastProbe.at, latencyMs: host.lastProbe.latencyMs, status: host.lastProbe.status, error: host.lastProbe.error },
        since: host.since,
        observedAt: host.observedAt,
      })),
    ),
  };
}

function mapValues<A, B>(record: Readonly<Record<string, A>>, map: (value: A) => B): Record<string, B> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, map(value)]));
}

async function readBytes(path: string): Promise<Buffer | 'missing' | 'too-large'> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return 'missing';
    throw unreadable(path, error);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new TendError('E_STATE_READ', 'conflict', `the journal ${path} is not a regular file`, { hint: 'Move it away; tend writes a new journal.' });
    if (stat.size > MAX_JOURNAL_BYTES) return 'too-large';
    return await handle.readFile();
  } catch (error) {
    throw error instanceof TendError ? error : unreadable(path, error);
  } finally {
    await handle.close();
  }
}

function unreadable(path: string, cause: unknown): TendError {
  return new TendError('E_STATE_READ', fsErrorClass(cause), `cannot read the journal ${path}: ${cause instanceof Error ? cause.message : String(cause)}`, {
    hint: 'The state directory must be readable and writable by the user tend runs as.',
    cause,
  });
}

/**
 * Reads the journal at `path` for `source`. Bad content of any kind is `corrupt` with a reason, never a
 * throw: a crash on a file system without fsync leaves a zero-byte file, and the daemon must be able to
 * decide to start afresh (git and the hosts are the truth). Only a file it cannot read at all (permissions,
 * a directory in its place) throws E_STATE_READ.
 */
export async function readJournal(path: string, source: string): Promise<JournalReadResult> {
  const bytes = await readBytes(path);
  if (bytes === 'missing') return { kind: 'missing' };
  if (bytes === 'too-large') return { kind: 'corrupt', reason: `the file is larger than ${MAX_JOURNAL_BYTES} bytes` };
  if (bytes.length === 0) return { kind: 'corrupt', reason: 'the file is empty (what a crash leaves before its data reached the disk)' };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { kind: 'corrupt', reason: 'the file is not UTF-8 text' };
  }
  return journalFromText(text, source);
}

/**
 * A journal from its stored text, for `source`; the same checks as a file gets. With `ha`, the journal is
 * this text in etcd instead of a file.
 */
export function journalFromText(text: string, source: string): JournalReadResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { kind: 'corrupt', reason: `the file is not JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  const problem = journalProblem(value);
  if (problem !== undefined) return { kind: 'corrupt', reason: problem };
  // The schema has just proven this shape.
  const journal = fromStored(value as StoredJournal);
  if (journal.source !== source) return { kind: 'other-source', found: journal.source };
  return { kind: 'ok', journal };
}

/** The stored text of a journal. One that would not read back is tend's bug and is refused before anything is written. */
export function journalText(journal: Journal): string {
  // A round trip through JSON drops `undefined` fields and turns NaN into null, which the check then sees.
  const text = `${JSON.stringify(journal, null, 2)}\n`;
  const problem = journalProblem(JSON.parse(text));
  if (problem !== undefined) throw new InternalError(`refusing to write a journal that would not read back: ${problem}`);
  return text;
}

/**
 * Replaces the journal atomically and durably. A journal that would not read back is tend's bug and is
 * refused before anything is written, so the file on disk stays the last good one.
 */
export async function writeJournal(path: string, journal: Journal): Promise<void> {
  const text = journalText(journal);
  try {
    await writeFileAtomically(path, text, 0o600);
  } catch (error) {
    throw new TendError('E_STATE_WRITE', fsErrorClass(error), `cannot write the journal ${path}: ${error instanceof Error ? error.message : String(error)}`, {
      hint: 'The state directory must be writable by the user tend runs as and its file system must have space.',
      cause: error,
    });
  }
}
