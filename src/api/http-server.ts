import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RolloutRecord } from '../state/index.js';
import type { DaemonStatus } from '../status/index.js';
import { asTendError, TendError } from '../errors/index.js';
import type { RefPlan } from '../preview/index.js';
import type { Logger } from '../observability/index.js';
import { verifyWebhook, webhookEventOf, type PullRequestEvent } from '../source/index.js';
import { renderStatusPage, STATUS_PAGE_HEADERS } from './status-page.js';

/** What the HTTP surface needs from the daemon; the server itself knows nothing of git or hosts. */
export interface DaemonApi {
  readonly status: () => DaemonStatus;
  /** Every kept rollout record, oldest first (`GET /history`, `tend history`). */
  readonly history: () => readonly RolloutRecord[];
  /** The Prometheus exposition of tend's metrics. */
  readonly metrics: () => Promise<{ readonly contentType: string; readonly text: string }>;
  /** Whether tend finished starting (journal read, source configured), and its role: /readyz. */
  readonly ready: () => Readiness;
  /**
   * A verified push to the followed branch: fetch soon. Coalesced by the daemon, never runs a pass inline.
   * A standby relays it to the leader (`relayedTo`); one that cannot throws E_NOT_LEADER (503), so the git
   * host records a failed delivery instead of a push nobody acted on.
   */
  readonly poke: (reason: 'webhook') => Promise<{ readonly relayedTo?: string }>;
  readonly operator: (action: 'retry' | 'ack', service: string | undefined) => Promise<readonly string[]>;
  readonly pause: (service: string, pause: { readonly owner: string; readonly reason: string; readonly until: number }) => Promise<'paused' | 'unknown-service'>;
  readonly resume: (service: string) => Promise<boolean>;
  /** Fetch, validate and plan a ref beside the followed branch (`POST /api/v1/plan`); throws TendErrors. */
  readonly plan: (ref: string) => Promise<RefPlan>;
  /** A verified pull request event: plan its head and publish the result to the git host, off this request. */
  readonly pullRequest: (event: PullRequestEvent) => { readonly accepted: true } | { readonly accepted: false; readonly reason: string };
}

/**
 * /readyz: `single` (a tend without ha), `leader`; a `standby` is ready (it serves status and can take
 * over), one that cannot reach etcd (`unavailable`) or is `starting` is not.
 */
export interface Readiness {
  readonly ready: boolean;
  readonly role: 'single' | 'leader' | 'standby' | 'unavailable' | 'starting';
  readonly detail?: string;
}

export interface ApiServerOptions {
  readonly listen: { readonly host: string; readonly port: number };
  /** Secret shared with the git host for `POST /hooks/git`; without one the endpoint answers 404. */
  readonly webhookSecret: string | undefined;
  /** The branch tend follows: only a push to it pokes a pass. */
  readonly branch: string;
  /** Bearer token for mutating endpoints (`POST /api/v1/retry`, `/ack`). */
  readonly operatorToken: string;
  readonly logger: Logger;
}

const MAX_BODY_BYTES = 1024 * 1024;

export interface ApiServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startApiServer(api: DaemonApi, options: ApiServerOptions): Promise<ApiServer> {
  const server: Server = createServer((request, response) => {
    handle(api, options, request, response).catch((error: unknown) => {
      if (error instanceof TendError && error.code === 'E_NOT_LEADER' && !response.headersSent) {
        // A standby: the operator's call belongs to the leader, which the hint names.
        send(response, 503, { error: error.message, code: error.code, hint: error.hint });
        return;
      }
      options.logger.error({ err: error instanceof Error ? error.message : String(error), path: request.url }, 'http handler failed');
      if (!response.headersSent) send(response, 500, { error: 'internal error' });
      else response.destroy();
    });
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(options.listen, error)));
    server.listen(options.listen.port, options.listen.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const PICK_ANOTHER = 'Pick another `listen` in the config (or `--listen`)';

/** Why the system refused to bind `listen`, by errno: each is the operator's to fix, never a bug in tend. */
const LISTEN_REFUSALS: ReadonlyMap<string, { readonly problem: string; readonly hint: string }> = new Map([
  ['EADDRINUSE', { problem: 'is already in use', hint: `${PICK_ANOTHER}, or stop what holds the port (\`ss -ltnp\` shows it).` }],
  ['EACCES', { problem: 'is not allowed to tend', hint: `${PICK_ANOTHER}: a port below 1024 needs root or CAP_NET_BIND_SERVICE.` }],
  ['EADDRNOTAVAIL', { problem: 'is not an address of this machine', hint: `${PICK_ANOTHER}: one of this machine's addresses (\`ip -brief address\`), 127.0.0.1 or 0.0.0.0.` }],
  ['EAFNOSUPPORT', { problem: 'is not an address of this machine', hint: `${PICK_ANOTHER}: this machine has no IPv6; use an IPv4 address.` }],
  ['ENOTFOUND', { problem: 'does not resolve to an address', hint: `${PICK_ANOTHER}: an IP address, which needs no DNS.` }],
  ['EAI_AGAIN', { problem: 'does not resolve to an address', hint: `${PICK_ANOTHER}: an IP address, which needs no DNS.` }],
]);

/** A TendError for a refusal in LISTEN_REFUSALS; anything else stays as it is, which the CLI shows as tend's bug. */
function listenError(listen: ApiServerOptions['listen'], error: NodeJS.ErrnoException): Error {
  const refusal = error.code === undefined ? undefined : LISTEN_REFUSALS.get(error.code);
  if (refusal === undefined) return error;
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return new TendError('E_CONFIG_LISTEN', 'invalid', `listen ${host}:${listen.port} ${refusal.problem}`, { hint: refusal.hint, cause: error });
}

async function handle(api: DaemonApi, options: ApiServerOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://tend.invalid');
  const route = `${request.method ?? 'GET'} ${url.pathname}`;
  switch (route) {
    case 'GET /healthz':
      return send(response, 200, { ok: true });
    case 'GET /readyz':
    {
      const readiness = api.ready();
      return send(response, readiness.ready ? 200 : 503, readiness);
    }
    case 'GET /status':
      return send(response, 200, api.status());
    case 'GET /history': {
      const service = url.searchParams.get('service');
      const rollouts = api.history().filter((record) => service === null || record.service === service);
      return send(response, 200, { rollouts });
    }
    case 'GET /': {
      response.writeHead(200, STATUS_PAGE_HEADERS);
      response.end(renderStatusPage(api.status(), Date.now()));
      return;
    }
    case 'GET /metrics': {
      const metrics = await api.metrics();
      response.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
      response.end(metrics.text);
      return;
    }
    case 'POST /api/v1/pause': {
      if (!authorized(request, options.operatorToken)) return send(response, 401, { error: 'missing or wrong bearer token' });
      const service = url.searchParams.get('service');
      const owner = url.searchParams.get('owner');
      const reason = url.searchParams.get('reason');
      const until = Number(url.searchParams.get('until'));
      if (service === null || owner === null || owner === '' || reason === null || reason === '' || !Number.isFinite(until)) {
        return send(response, 400, { error: 'pause needs service, owner, reason and until (ms since the epoch)' });
      }
      const result = await api.pause(service, { owner, reason, until });
      return result === 'paused' ? send(response, 200, { paused: service, until }) : send(response, 404, { error: `no service ${service} in the applied commit` });
    }
    case 'POST /api/v1/resume': {
      if (!authorized(request, options.operatorToken)) return send(response, 401, { error: 'missing or wrong bearer token' });
      const service = url.searchParams.get('service') ?? '';
      return (await api.resume(service)) ? send(response, 200, { resumed: service }) : send(response, 404, { error: `${service} is not paused` });
    }
    case 'POST /api/v1/plan': {
      if (!authorized(request, options.operatorToken)) return send(response, 401, { error: 'missing or wrong bearer token' });
      const ref = url.searchParams.get('ref');
      if (ref === null || ref === '') return send(response, 400, { error: 'plan needs ref: a branch, a full ref (refs/pull/7/head) or a commit sha' });
      let plan: RefPlan;
      try {
        plan = await api.plan(ref);
      } catch (error) {
        const refused = asTendError(error);
        if (refused.errorClass === 'internal') throw refused;
        const status = PLAN_REFUSALS[refused.code] ?? (refused.errorClass === 'transient' ? 503 : refused.errorClass === 'invalid' ? 400 : 502);
        if (status === 429) response.setHeader('retry-after', '30');
        return send(response, status, { ok: false, error: { code: refused.code, class: refused.errorClass, message: refused.message, hint: refused.hint ?? null } });
      }
      return send(response, 200, refPlanJson(plan));
    }
    case 'POST /hooks/git': {
      if (options.webhookSecret === undefined) return send(response, 404, { error: 'no webhook secret is configured (webhook.secret_file)' });
      const body = await readBody(request);
      if (body === undefined) return send(response, 413, { error: `body larger than ${MAX_BODY_BYTES} bytes` });
      const verdict = verifyWebhook(request.headers, body, options.webhookSecret);
      if (!verdict.ok) {
        options.logger.warn({ reason: verdict.reason }, 'webhook refused');
        return send(response, 401, { error: verdict.reason });
      }
      const { provider } = verdict;
      const event = webhookEventOf(provider, request.headers, body, options.branch);
      switch (event.kind) {
        case 'malformed':
          options.logger.warn({ provider, reason: event.reason }, 'webhook unreadable');
          return send(response, 400, { error: event.reason });
        case 'ping':
          options.logger.info({ provider }, 'webhook ping');
          return send(response, 200, { pong: true, provider });
        case 'ignored':
          options.logger.info({ provider, reason: event.reason }, 'webhook ignored');
          return send(response, 202, { ignored: event.reason, provider });
        case 'push': {
          const taken = await api.poke('webhook');
          return send(response, 202, { accepted: true, provider, ref: event.ref, ...taken });
        }
        case 'pull-request': {
          const taken = api.pullRequest(event);
          if (!taken.accepted) {
            options.logger.info({ provider, pullRequest: event.number, reason: taken.reason }, 'webhook ignored');
            return send(response, 202, { ignored: taken.reason, provider });
          }
          options.logger.info({ provider, pullRequest: event.number, commit: event.headSha }, 'pull request to plan');
          return send(response, 202, { accepted: true, provider, pullRequest: event.number, sha: event.headSha });
        }
      }
    }
    case 'POST /api/v1/retry':
    case 'POST /api/v1/ack': {
      if (!authorized(request, options.operatorToken)) return send(response, 401, { error: 'missing or wrong bearer token' });
      const service = url.searchParams.get('service') ?? undefined;
      const cleared = await api.operator(route.endsWith('retry') ? 'retry' : 'ack', service);
      return send(response, 200, { cleared });
    }
    default:
      return send(response, 404, { error: `no route ${route}` });
  }
}

/** HTTP statuses of the refusals a caller should tell apart; the rest go by error class. */
const PLAN_REFUSALS: Readonly<Record<string, number>> = { E_PLAN_REF_MISSING: 404, E_PLAN_BUSY: 429 };

/** The answer of `POST /api/v1/plan`, which `tend plan --daemon` reads: tend plan's JSON, plus its text. */
export function refPlanJson(plan: RefPlan): Record<string, unknown> {
  const common = { verdict: plan.verdict, ref: plan.ref, sha: plan.sha };
  if (plan.verdict === 'invalid') {
    const summary = { errors: plan.issues.length, files: new Set(plan.issues.map((issue) => issue.file)).size };
    return { ok: false, ...common, summary, issues: plan.issues, text: plan.text };
  }
  const error = plan.error === undefined ? {} : { error: { code: plan.error.code, class: plan.error.errorClass, message: plan.error.message, hint: plan.error.hint ?? null } };
  return { ok: plan.error === undefined, ...common, ...error, services: plan.services ?? null, notPlanned: plan.notPlanned, plan: plan.plan, text: plan.text };
}

function authorized(request: IncomingMessage, token: string): boolean {
  const header = request.headers.authorization ?? '';
  const given = Buffer.from(header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '');
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

async function readBody(request: IncomingMessage): Promise<Uint8Array | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  response.end(text);
}
