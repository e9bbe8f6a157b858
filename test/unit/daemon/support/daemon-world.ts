import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { CrashPoint } from '../../../../src/daemon/crash-points.js';
import { Reconciler, type PassOutcome, type PassReason } from '../../../../src/daemon/reconciler.js';
import { TendError } from '../../../../src/errors/index.js';
import { createLogger } from '../../../../src/observability/index.js';
import type { RetryPolicy } from '../../../../src/rollout/index.js';
import { emptyJournal, type Journal } from '../../../../src/state/index.js';
import type { DaemonStatus } from '../../../../src/status/index.js';
import { FakeFleet } from './fake-fleet.js';
import { filesOf, MemorySource } from './memory-source.js';

const EXAMPLE_REPO = fileURLToPath(new URL('../../../../deploy-repo-example', import.meta.url));

export const RETRY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 4_000 };

/** tend killed at a crash point: nothing after it runs, as with SIGKILL. */
export class Killed extends Error {
  constructor(readonly point: CrashPoint) {
    super(`killed at ${point}`);
  }
}

/** One log event, as pino wrote it. */
export type LogEvent = Record<string, unknown> & { readonly msg: string };

/**
 * A daemon with everything outside it replaced: the deploy repo in memory (the example repo as its first
 * commit), a fake fleet, a clock that moves only when the daemon sleeps or a test says so, and a journal
 * on a "disk" that survives `restart()`. `settle()` runs passes the way the daemon's loop does.
 */
export class DaemonWorld {
  readonly source = new MemorySource();
  readonly fleet = new FakeFleet();
  readonly log: LogEvent[] = [];
  /** Every journal written, in order: what a crash at any point leaves is the last one. */
  readonly writes: Journal[] = [];
  now = 1_800_000_000_000;
  /** Kill tend the next time it reaches this point. */
  killAt: CrashPoint | undefined;
  /** Kill tend at every point this says yes to (a daemon restarted again and again). */
  killWhen: ((point: CrashPoint) => boolean) | undefined;
  reconciler: Reconciler;
  readonly retry: RetryPolicy;
  /** Told every status the reconciler publishes, as the daemon's notification and git host sinks are. */
  onStatus: ((status: DaemonStatus) => void) | undefined;
  /** The leader's gate (`mayAct`): whether this tend still holds the lease. */
  leading: () => boolean = () => true;
  /** A journal write this says yes to fails, as a fenced write does while etcd is unreachable under `ha`. */
  failJournalWrite: ((journal: Journal) => boolean) | undefined;
  /**
   * Whether each sleep lets the event loop turn, as a real probe's I/O does: a rejection nobody handles
   * is seen then, while a rollout of microtasks alone would hide it.
   */
  sleepsTurnTheLoop = false;

  private constructor(retry: RetryPolicy) {
    this.retry = retry;
    this.reconciler = this.#start(emptyJournal(this.source.description));
  }

  static async create(retry: RetryPolicy = RETRY): Promise<DaemonWorld> {
    const world = new DaemonWorld(retry);
    world.source.commitChanges('example repo', await filesOf(EXAMPLE_REPO));
    return world;
  }

  get journal(): Journal {
    return this.writes.at(-1) ?? emptyJournal(this.source.description);
  }

  /** A new tend process on the same state: the journal as last written, nothing from memory. */
  restart(): void {
    this.reconciler.stop();
    this.reconciler = this.#start(this.journal);
  }

  /** `rollout started` events so far (one per pass that acts), or the attempts of one service. */
  rolloutStarts(service?: string): number {
    return this.log.filter((event) => event.msg === 'rollout started' && (service === undefined || (event['services'] as string[]).includes(service))).length;
  }

  events(msg: string): LogEvent[] {
    return this.log.filter((event) => event.msg === msg);
  }

  service(name: string): ReturnType<Reconciler['status']['services']['find']> {
    return this.reconciler.status.services.find((one) => one.service === name);
  }

  /** Commits a new api script with this VERSION (and behaviour), as a developer would. */
  landApi(version: string, behaviour: 'healthy' | 'crash' | 'unhealthy' = 'healthy'): string {
    const script = `#!/bin/sh\nVERSION=${version}\n${behaviour === 'healthy' ? '' : `BEHAVIOUR=${behaviour}\n`}exec busybox httpd -f -p 8080\n`;
    return this.source.commitChanges(`api ${version}`, { 'services/api/api': script });
  }

  async pass(reason: PassReason): Promise<PassOutcome> {
    return this.reconciler.pass(reason);
  }

  /**
   * Runs passes as the daemon's loop would until it is idle: again at once after `again`, after the delay
   * after `retry` (the clock moves by it). Returns the number of passes. A kill restarts tend and goes on.
   */
  async settle(reason: PassReason = 'poll', limit = 60): Promise<number> {
    let next: PassReason | undefined = reason;
    let passes = 0;
    while (next !== undefined) {
      passes += 1;
      if (passes > limit) throw new Error(`no idle after ${limit} passes`);
      let outcome: PassOutcome;
      try {
        outcome = await this.reconciler.pass(next);
      } catch (error) {
        if (!(error instanceof Killed)) throw error;
        this.restart();
        next = 'startup';
        continue;
      }
      if (outcome.kind === 'again') next = 'follow-up';
      else if (outcome.kind === 'retry') {
        this.now += outcome.delayMs;
        next = 'retry';
      } else next = undefined;
    }
    return passes;
  }

  #start(journal: Journal): Reconciler {
    const log = this.log;
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line !== '') log.push(JSON.parse(line) as LogEvent);
        done();
      },
    });
    return new Reconciler({
      source: this.source,
      fleet: this.fleet,
      secrets: { description: 'test secrets', read: async () => 'secret-token-value' },
      journalPath: '/state/journal.json',
      journal,
      logger: createLogger({ destination }),
      retry: this.retry,
      createRevert: (input) => this.source.revert(input),
      crash: (point) => {
        if (this.killWhen?.(point) === true) throw new Killed(point);
        if (point !== this.killAt) return;
        this.killAt = undefined;
        throw new Killed(point);
      },
      writeJournal: async (_path, written) => {
        if (this.failJournalWrite?.(written) === true) throw new TendError('E_ETCD_UNAVAILABLE', 'transient', 'etcd did not answer the journal write');
        this.writes.push(written);
      },
      now: () => this.now,
      sleep: async (ms) => {
        this.now += ms;
        if (this.sleepsTurnTheLoop) await new Promise((resolve) => setImmediate(resolve));
      },
      random: () => 0.5,
      onStatus: (status) => this.onStatus?.(status),
      mayAct: () => this.leading(),
      identity: 'tend-under-test',
    });
  }
}
