import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';

import { afterEach, describe, expect, it } from 'vitest';

import type { DaemonStatus, ServiceStatus } from '../../../src/status/index.js';
import { TendError } from '../../../src/errors/index.js';
import { createLogger } from '../../../src/observability/logger.js';
import { createNotificationSink, type NotificationSinkOptions } from '../../../src/observability/notifications.js';

const T0 = Date.UTC(2024, 10, 21, 3, 0, 0);
const TOKEN = 'XoXbSeCrEtT0k3n';
/** Shaped like a Slack incoming webhook: the token is the path, and a second one rides in the query. */
const SECRET_PATH = `/services/T0001/B0002/${TOKEN}?token=${TOKEN}q`;

function service(name: string, patch: Partial<ServiceStatus> = {}): ServiceStatus {
  return { service: name, state: 'Synced', code: undefined, errorClass: undefined, message: 'healthy', hint: undefined, since: T0, desiredCommit: 'a'.repeat(40), stableCommit: 'a'.repeat(40), ...patch };
}

function status(services: readonly ServiceStatus[]): DaemonStatus {
  return {
    version: 1,
    startedAt: T0,
    settled: true,
    source: { description: 'https://git.example.com/ops/deploy.git', branch: 'main', head: 'a'.repeat(40), lastFetchAt: T0, lastFetchOkAt: T0, error: undefined },
    lastApplied: 'a'.repeat(40),
    lastAttempted: 'a'.repeat(40),
    stalled: undefined,
    inFlight: undefined,
    services,
    hosts: [],
    recentRollouts: [],
  };
}

const failing = (name: string): DaemonStatus =>
  status([service(name, { state: 'Stalled', code: 'E_REVERT_CONFLICT', errorClass: 'conflict', message: `${name}: revert conflicts`, desiredCommit: 'b'.repeat(40) })]);

interface LogLine {
  readonly msg: string;
  readonly [field: string]: unknown;
}

function capturedLogger(): { logger: ReturnType<typeof createLogger>; lines: LogLine[]; raw: string[] } {
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  return {
    logger,
    raw,
    get lines() {
      return raw.flatMap((text) => text.split('\n').filter((line) => line !== '')).map((line) => JSON.parse(line) as LogLine);
    },
  };
}

/** A real local webhook receiver that answers each POST with the next status of `script` (then 200). */
async function receiver(script: readonly (number | 'hang')[]): Promise<{ url: string; requests: { path: string; body: string }[]; server: Server }> {
  const requests: { path: string; body: string }[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push({ path: request.url ?? '', body: Buffer.concat(chunks).toString() });
      const answer = script[requests.length - 1] ?? 200;
      if (answer === 'hang') return;
      response.writeHead(answer, { 'content-type': 'text/plain' }).end(answer === 200 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/** Backoff waits recorded, not slept; the clock moves by them so the budget is exercised without real time. */
function fakeTime(): { sleeps: number[]; effects: NonNullable<NotificationSinkOptions['effects']> } {
  let now = T0;
  const sleeps: number[] = [];
  return {
    sleeps,
    effects: {
      clock: () => now,
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
    },
  };
}

const incidents = { settleMs: 0, repeatWindowMs: 3_600_000, reminderMs: Number.POSITIVE_INFINITY };

describe('notification delivery', () => {
  it('retries a receiver that fails twice and delivers the same body on the third attempt', async () => {
    const hook = await receiver([503, 500, 200]);
    const log = capturedLogger();
    const time = fakeTime();
    const sink = createNotificationSink({
      url: `${hook.url}${SECRET_PATH}`,
      format: 'json',
      statusUrl: 'https://tend.example.com/',
      logger: log.logger,
      incidents,
      delivery: { backoffMs: 1_000, maxAttempts: 5, budgetMs: 60_000 },
      effects: time.effects,
    });

    sink.observe(failing('gateway'), T0);
    await sink.drain();

    expect(hook.requests.map((request) => request.path)).toEqual([SECRET_PATH, SECRET_PATH, SECRET_PATH]);
    expect(new Set(hook.requests.map((request) => request.body)).size).toBe(1);
    expect(JSON.parse(hook.requests[2]?.body ?? '')).toMatchObject({ event: 'error', service: 'gateway', code: 'E_REVERT_CONFLICT', statusUrl: 'https://tend.example.com/' });
    expect(time.sleeps).toEqual([1_000, 2_000]);
    expect(log.lines.filter((line) => line.msg.startsWith('notification deliver')).map((line) => [line.msg, line['attempt'], line['reason']])).toEqual([
      ['notification delivery failed; retrying', 1, 'HTTP 503'],
      ['notification delivery failed; retrying', 2, 'HTTP 500'],
      ['notification delivered', 3, undefined],
    ]);
  });

  it('sends the Slack format to a Slack-shaped hook', async () => {
    const hook = await receiver([]);
    const log = capturedLogger();
    const sink = createNotificationSink({ url: `${hook.url}${SECRET_PATH}`, format: 'slack', logger: log.logger, incidents, effects: fakeTime().effects });
    sink.observe(failing('gateway'), T0);
    await sink.drain();
    const body = JSON.parse(hook.requests[0]?.body ?? '{}') as { text: string; blocks: unknown[] };
    expect(body.text).toBe(':red_circle: gateway Stalled: E_REVERT_CONFLICT: gateway: revert conflicts');
    expect(body.blocks.length).toBeGreaterThan(0);
  });

  it('does not retry a receiver that refuses the hook for good (a revoked token)', async () => {
    const hook = await receiver([404]);
    const log = capturedLogger();
    const sink = createNotificationSink({ url: `${hook.url}${SECRET_PATH}`, format: 'json', logger: log.logger, incidents, effects: fakeTime().effects });
    sink.observe(failing('gateway'), T0);
    await sink.drain();
    expect(hook.requests).toHaveLength(1);
    expect(log.lines.find((line) => line.msg === 'notification not delivered; gave up')).toMatchObject({ reason: 'HTTP 404', retryable: false, attempt: 1 });
  });

  it('never blocks observe on a receiver that does not answer, and gives up after the attempt limit', async () => {
    const hook = await receiver(['hang', 'hang', 'hang', 'hang']);
    const log = capturedLogger();
    const sink = createNotificationSink({
      url: `${hook.url}${SECRET_PATH}`,
      format: 'json',
      logger: log.logger,
      incidents,
      delivery: { timeoutMs: 100, maxAttempts: 3, budgetMs: 60_000, backoffMs: 10 },
      effects: fakeTime().effects,
    });

    sink.observe(failing('gateway'), T0);
    // observe returned while the receiver holds the first request open: nothing was answered yet.
    expect(log.lines.filter((line) => line.msg.startsWith('notification deliver') || line.msg.startsWith('notification not'))).toEqual([]);
    await sink.drain();

    expect(hook.requests).toHaveLength(3);
    expect(log.lines.find((line) => line.msg === 'notification not delivered; gave up')).toMatchObject({ attempt: 3, reason: 'no answer within 100 ms', retryable: true });
  });

  it('gives up on a closed port when the next wait would overrun the budget, before the attempt limit', async () => {
    const hook = await receiver([]);
    const closedPort = hook.url;
    await new Promise<void>((resolve) => hook.server.close(() => resolve()));
    servers.splice(servers.indexOf(hook.server), 1);
    const log = capturedLogger();
    const time = fakeTime();
    const sink = createNotificationSink({
      url: `${closedPort}${SECRET_PATH}`,
      format: 'json',
      logger: log.logger,
      incidents,
      delivery: { maxAttempts: 10, budgetMs: 5_000, backoffMs: 1_000 },
      effects: time.effects,
    });

    sink.observe(failing('gateway'), T0);
    await sink.drain();

    // Attempts at 0, 1 s and 3 s; waiting 4 s more would end past the 5 s budget.
    expect(time.sleeps).toEqual([1_000, 2_000]);
    const gaveUp = log.lines.find((line) => line.msg === 'notification not delivered; gave up');
    expect(gaveUp).toMatchObject({ attempt: 3, retryable: true });
    expect(String(gaveUp?.['reason'])).toContain('ECONNREFUSED');
  });

  it('keeps the queue bounded while the receiver hangs: the oldest waiting notification is dropped and logged', async () => {
    const hook = await receiver(['hang']);
    const log = capturedLogger();
    const sink = createNotificationSink({
      url: `${hook.url}${SECRET_PATH}`,
      format: 'json',
      logger: log.logger,
      incidents,
      delivery: { timeoutMs: 200, maxAttempts: 1, maxQueue: 2 },
      effects: fakeTime().effects,
    });

    // Five services fail one after the other: the first is in flight, two wait, two are dropped.
    const names = ['s1', 's2', 's3', 's4', 's5'];
    names.forEach((name, index) => sink.observe(status(names.slice(0, index + 1).map((one) => failing(one).services[0] as ServiceStatus)), T0 + index));
    await sink.drain();

    expect(log.lines.filter((line) => line.msg === 'notification queue full; dropped the oldest').map((line) => line['key'])).toEqual([
      `service/s2@${'b'.repeat(40)}:E_REVERT_CONFLICT`,
      `service/s3@${'b'.repeat(40)}:E_REVERT_CONFLICT`,
    ]);
    expect(hook.requests.map((request) => (JSON.parse(request.body) as { service: string }).service)).toEqual(['s1', 's4', 's5']);
  });

  it('never writes the hook URL or its token to the logs, only its origin', async () => {
    const log = capturedLogger();
    const hook = await receiver([503, 200]);
    const url = `${hook.url}${SECRET_PATH}`;
    const throwing = createNotificationSink({
      url,
      format: 'json',
      logger: log.logger,
      incidents,
      delivery: { maxAttempts: 2 },
      // fetch's own errors quote the URL ("Failed to parse URL from …").
      effects: { ...fakeTime().effects, fetch: async (target) => Promise.reject(new TypeError(`Failed to parse URL from ${String(target)}`)) },
    });
    const real = createNotificationSink({ url, format: 'slack', logger: log.logger, incidents, effects: fakeTime().effects });

    throwing.observe(failing('gateway'), T0);
    real.observe(failing('gateway'), T0);
    await Promise.all([throwing.drain(), real.drain()]);

    const everything = log.raw.join('');
    expect(log.lines.map((line) => line.msg)).toContain('notification delivered');
    expect(log.lines.find((line) => line.msg === 'notification not delivered; gave up')?.['reason']).toBe('Failed to parse URL from [redacted]');
    expect(everything).toContain(`"origin":"${hook.url}"`);
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toContain('/services/T0001');
  });

  it('refuses a malformed or non-HTTP hook URL without quoting it', () => {
    const { logger } = capturedLogger();
    for (const url of [`not a url ${TOKEN}`, `ftp://hooks.example.com/${TOKEN}`]) {
      let thrown: unknown;
      try {
        createNotificationSink({ url, format: 'json', logger });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(TendError);
      expect(thrown).toMatchObject({ code: 'E_NOTIFY_URL', errorClass: 'invalid' });
      expect(JSON.stringify({ message: (thrown as TendError).message, hint: (thrown as TendError).hint })).not.toContain(TOKEN);
    }
  });
});
