import { shortCommit } from '../source/commit-id.js';
import type { RolloutRecord } from '../state/index.js';
import { STATES_WORST_FIRST, worstFirst, type DaemonStatus, type HostStatus, type ServiceState, type ServiceStatus } from '../status/index.js';

export interface StatusPageOptions {
  /** Seconds between automatic reloads; 10 unless told. */
  readonly refreshSeconds?: number;
}

/**
 * Headers for the page's route. The page carries the same policy in a meta tag; the header also forbids
 * framing, which a meta tag cannot.
 */
export const STATUS_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

type Tone = 'bad' | 'busy' | 'good' | 'neutral';

const TONE_OF_STATE: Readonly<Record<ServiceState, Tone>> = {
  Stalled: 'bad',
  Degraded: 'bad',
  Drifted: 'busy',
  Paused: 'neutral',
  Progressing: 'busy',
  Waiting: 'busy',
  RolledBack: 'neutral',
  Synced: 'good',
};

/**
 * The on-call page served at `/`: one self-contained HTML document (inline CSS, no script, no external
 * request) that reloads itself, so a phone left open on it stays current. Every value from the status is
 * escaped: service names, messages and hints come from the deploy repo and from hosts.
 */
export function renderStatusPage(status: DaemonStatus, now: number, options: StatusPageOptions = {}): string {
  const services = worstFirst(status.services);
  const verdict = verdictOf(status, services);
  const refresh = options.refreshSeconds ?? 10;
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${refresh}">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="referrer" content="no-referrer">
<meta name="color-scheme" content="light dark">
<title>${verdict.title} · tend</title>
<link rel="icon" href="${faviconOf(verdict.tone)}">
<style>${raw(STYLE)}</style>
</head>
<body>
<main>
<header class="banner tone-${verdict.tone}" role="status" data-verdict="${verdict.tone}">
<p class="banner-mark" aria-hidden="true">${verdict.mark}</p>
<div>
<h1>${verdict.headline}</h1>
<p>${verdict.detail}</p>
</div>
</header>
${stateCounts(services)}
${repoStall(status, now)}
${leadershipCard(status, now)}
${status.source.error === undefined ? undefined : sourceCard(status, now)}
${inFlight(status, now)}
<section aria-labelledby="services-title">
<h2 id="services-title">Services <span class="muted">worst first</span></h2>
${services.length === 0 ? html`<p class="empty">No service reported yet: the first pass has not finished.</p>` : html`<ol class="services">${services.map((service) => serviceItem(service, now))}</ol>`}
</section>
${status.source.error === undefined ? sourceCard(status, now) : undefined}
${status.hosts.length === 0 ? undefined : hostTable(status.hosts, services, now)}
${status.recentRollouts.length === 0 ? undefined : rolloutTable(status.recentRollouts, now)}
<footer>
<p>tend · daemon started ${when(status.startedAt, now)} · page rendered ${absolute(now)} · reloads every ${refresh} s · <a href="/status">/status</a> as JSON</p>
</footer>
</main>
</body>
</html>
`;
  return page.text;
}

interface Verdict {
  readonly tone: Tone;
  readonly mark: string;
  readonly title: string;
  readonly headline: string;
  readonly detail: string;
}

/** The one answer on-call wants first: is everything converged, and if not, what kind of not. */
function verdictOf(status: DaemonStatus, services: readonly ServiceStatus[]): Verdict {
  const attention = services.filter((service) => service.state === 'Stalled' || service.state === 'Degraded');
  if (status.stalled !== undefined) {
    return {
      tone: 'bad',
      mark: '!',
      title: 'Repository stalled',
      headline: `Repository stalled: ${status.stalled.code}`,
      detail: `No service moves until a new commit fixes ${short(status.stalled.commit)}.${attention.length > 0 ? ` ${namesByState(attention)}.` : ''}`,
    };
  }
  if (attention.length > 0) {
    const needs = attention.length === 1 ? '1 service needs attention' : `${attention.length} services need attention`;
    return { tone: 'bad', mark: '!', title: needs, headline: needs, detail: `${namesByState(attention)}.` };
  }
  const moving = services.filter((service) => service.state === 'Progressing' || service.state === 'Waiting' || service.state === 'Drifted' || service.state === 'Paused');
  if (status.inFlight !== undefined || moving.some((service) => service.state === 'Progressing')) {
    const commit = status.inFlight?.commit ?? moving.find((service) => service.state === 'Progressing')?.desiredCommit;
    return { tone: 'busy', mark: '…', title: 'Rolling out', headline: `Rolling out ${short(commit)}`, detail: moving.length > 0 ? `${namesByState(moving)}.` : 'Nothing is failing.' };
  }
  if (status.source.error !== undefined) {
    return {
      tone: 'busy',
      mark: '?',
      title: 'Source unreachable',
      headline: 'Converged, but the source cannot be fetched',
      detail: `Hosts match ${short(status.lastApplied)}; newer commits are not seen until fetching works (${status.source.error.code}).`,
    };
  }
  if (services.length === 0) return { tone: 'neutral', mark: '…', title: 'Starting', headline: 'No service reported yet', detail: 'The first pass has not finished.' };
  if (moving.length > 0) return { tone: 'busy', mark: '…', title: 'Waiting', headline: 'Converged except for windows, pauses and drift', detail: `${namesByState(moving)}.` };
  const rolledBack = services.filter((service) => service.state === 'RolledBack');
  return {
    tone: 'good',
    mark: '✓',
    title: 'Converged',
    headline: services.length === 1 ? 'The service is converged' : `All ${services.length} services are converged`,
    detail:
      rolledBack.length > 0
        ? `At ${short(status.lastApplied)}. ${namesByState(rolledBack)}: a bad commit was reverted and needs a fix.`
        : `Every host runs ${short(status.lastApplied)} and is healthy.`,
  };
}

function namesByState(services: readonly ServiceStatus[]): string {
  const groups = new Map<ServiceState, string[]>();
  for (const service of services) groups.set(service.state, [...(groups.get(service.state) ?? []), service.service]);
  return [...groups].map(([state, names]) => `${state}: ${names.join(', ')}`).join(' · ');
}

function stateCounts(services: readonly ServiceStatus[]): Html | undefined {
  if (services.length === 0) return undefined;
  const counts = STATES_WORST_FIRST.map((state) => [state, services.filter((service) => service.state === state).length] as const).filter(([, count]) => count > 0);
  return html`<ul class="counts" aria-label="services by state">${counts.map(([state, count]) => html`<li class="pill tone-${TONE_OF_STATE[state]}">${count} ${state}</li>`)}</ul>`;
}

function repoStall(status: DaemonStatus, now: number): Html | undefined {
  const stall = status.stalled;
  if (stall === undefined) return undefined;
  return html`<section class="card tone-bad" aria-labelledby="stall-title">
<h2 id="stall-title">Repository stalled <code>${stall.code}</code></h2>
<p class="message">${stall.message}</p>
${stall.hint === undefined ? undefined : html`<p class="hint"><strong>What to do:</strong> ${stall.hint}</p>`}
${
  stall.issues.length === 0
    ? undefined
    : html`<ol class="issues">${stall.issues.map(
        (issue) => html`<li><code class="where">${issue.file}:${issue.line}:${issue.col}</code> ${issue.message} <code>${issue.code}</code></li>`,
      )}</ol>`
}
<dl>
<dt>Commit</dt><dd>${commit(stall.commit)}</dd>
<dt>Error class</dt><dd>${stall.errorClass}</dd>
<dt>Since</dt><dd>${when(stall.since, now)}</dd>
</dl>
</section>`;
}

/** The rollout running now, above the services it explains. */
function inFlight(status: DaemonStatus, now: number): Html | undefined {
  const rollout = status.inFlight;
  if (rollout === undefined) return undefined;
  return html`<p class="in-flight"><span class="pill tone-busy">${rollout.phase}</span> rollout <code>${rollout.rolloutId}</code> of ${commit(rollout.commit)}, started ${when(rollout.startedAt, now)}</p>`;
}

/** With `ha`: who leads, and why the instance that answered does not act (above the services: on-call asks first). */
function leadershipCard(status: DaemonStatus, now: number): Html | undefined {
  const leadership = status.leadership;
  if (leadership === undefined) return undefined;
  return html`<section class="card${leadership.role === 'leader' || leadership.role === 'standby' ? '' : ' tone-busy'}" aria-labelledby="leadership-title">
<h2 id="leadership-title">Leadership</h2>
<dl>
<dt>Leader</dt><dd>${leadership.leader === undefined ? 'none' : html`${leadership.leader.identity} <span class="muted">at</span> ${leadership.leader.url}${leadership.leaderSince === undefined ? undefined : html` <span class="muted">since</span> ${when(leadership.leaderSince, now)}`}`}</dd>
<dt>This instance</dt><dd>${leadership.self}: ${leadership.role}${leadership.leaseRenewedAt === undefined ? undefined : html` <span class="muted">lease renewed</span> ${when(leadership.leaseRenewedAt, now)}`}</dd>
${leadership.notActing === undefined ? undefined : html`<dt>Not acting</dt><dd>${leadership.notActing.detail}</dd>`}
${leadership.role === 'leader' || leadership.publishedAt === undefined ? undefined : html`<dt>Shown</dt><dd>as the leader published it ${when(leadership.publishedAt, now)}</dd>`}
</dl>
</section>`;
}

/** A failing fetch goes above the services (nothing new is seen until it works); a healthy source below them. */
function sourceCard(status: DaemonStatus, now: number): Html {
  const source = status.source;
  return html`<section class="card${source.error === undefined ? '' : ' tone-busy'}" aria-labelledby="source-title">
<h2 id="source-title">Source</h2>
<dl>
<dt>Repository</dt><dd>${source.description} <span class="muted">branch</span> ${source.branch}</dd>
<dt>Head</dt><dd>${commit(source.head)}</dd>
<dt>Last fetch</dt><dd>${source.lastFetchOkAt === undefined ? 'never succeeded' : when(source.lastFetchOkAt, now)}</dd>
${source.error === undefined ? undefined : html`<dt>Fetch failing</dt><dd><code>${source.error.code}</code> (${source.error.errorClass}) ${source.error.message}${source.error.hint === undefined ? undefined : html`<p class="hint"><strong>What to do:</strong> ${source.error.hint}</p>`}</dd>`}
<dt>Last applied</dt><dd>${commit(status.lastApplied)}</dd>
${status.lastAttempted === undefined || status.lastAttempted === status.lastApplied ? undefined : html`<dt>Last attempted</dt><dd>${commit(status.lastAttempted)}</dd>`}
${status.inFlight === undefined ? html`<dt>Rollout</dt><dd class="muted">none in flight</dd>` : undefined}
</dl>
</section>`;
}

function serviceItem(service: ServiceStatus, now: number): Html {
  const tone = TONE_OF_STATE[service.state];
  const header = html`<div class="service-head">
<h3>${service.service}</h3>
<span class="pill tone-${tone}">${service.state}</span>
${service.code === undefined ? undefined : html`<code class="code">${service.code}</code>`}
</div>`;
  if (service.state === 'Synced') {
    return html`<li class="service compact tone-${tone}" id="service-${service.service}" data-service="${service.service}" data-state="${service.state}">
${header}
<p class="muted">at ${commit(service.desiredCommit)} since ${when(service.since, now)}</p>
</li>`;
  }
  return html`<li class="service tone-${tone}" id="service-${service.service}" data-service="${service.service}" data-state="${service.state}">
${header}
<p class="message">${service.message}</p>
${service.hint === undefined ? undefined : html`<p class="hint"><strong>What to do:</strong> ${service.hint}</p>`}
<dl>
<dt>Since</dt><dd>${when(service.since, now)}</dd>
${service.errorClass === undefined ? undefined : html`<dt>Error class</dt><dd>${service.errorClass}</dd>`}
${service.failedHosts === undefined || service.failedHosts.length === 0 ? undefined : html`<dt>Failed hosts</dt><dd class="chips">${service.failedHosts.map((host) => html`<code>${host}</code> `)}</dd>`}
<dt>Desired</dt><dd>${commit(service.desiredCommit)}</dd>
<dt>Last healthy</dt><dd>${commit(service.stableCommit)}</dd>
${service.revertCommit === undefined ? undefined : html`<dt>Revert</dt><dd>${commit(service.revertCommit)}</dd>`}
${service.nextAttemptAt === undefined ? undefined : html`<dt>Next attempt</dt><dd>${when(service.nextAttemptAt, now)}</dd>`}
${service.window === undefined ? undefined : html`<dt>Deploy window</dt><dd><code>${service.window}</code></dd>`}
</dl>
</li>`;
}

function hostTable(rows: readonly HostStatus[], services: readonly ServiceStatus[], now: number): Html {
  const rank = new Map(services.map((service, index) => [service.service, index]));
  const sorted = [...rows].sort(
    (a, b) => (rank.get(a.service) ?? rank.size) - (rank.get(b.service) ?? rank.size) || a.service.localeCompare(b.service) || a.host.localeCompare(b.host),
  );
  return html`<section aria-labelledby="hosts-title">
<h2 id="hosts-title">Hosts <span class="muted">by service, worst first</span></h2>
<div class="table-scroll"><table>
<thead><tr><th scope="col">Service</th><th scope="col">Host</th><th scope="col">State</th><th scope="col">Commit</th><th scope="col">Version</th><th scope="col">Unit</th><th scope="col">Last probe</th><th scope="col">Since</th></tr></thead>
<tbody>${sorted.map((row) => {
    const tone = toneOfWord(row.state);
    return html`<tr class="row-${tone}" data-host="${row.host}" data-service="${row.service}"><td>${row.service}</td><td><code>${row.host}</code></td><td><span class="pill tone-${tone}">${row.state}</span></td><td>${commit(row.commit)}</td><td>${row.version === undefined ? html`<span class="muted">-</span>` : html`<code>${row.version}</code>`}</td><td>${row.unit ?? html`<span class="muted">-</span>`}</td><td>${probeCell(row.lastProbe, now)}</td><td>${ago(row.since, now)}</td></tr>`;
  })}</tbody>
</table></div>
</section>`;
}

/** Compact for the table; latency, time and the error are in the title for whoever hovers. */
function probeCell(probe: HostStatus['lastProbe'], now: number): Html {
  if (probe === undefined) return html`<span class="muted">-</span>`;
  const detail = `${Math.round(probe.latencyMs)} ms, ${relative(probe.at, now)} (${absolute(probe.at)})${probe.error === undefined ? '' : `: ${probe.error}`}`;
  return html`<span class="pill tone-${probe.ok ? 'good' : 'bad'}" title="${detail}">${probe.ok ? 'ok' : 'failed'}${probe.status === undefined ? undefined : ` ${probe.status}`}</span>`;
}

function rolloutTable(rollouts: readonly RolloutRecord[], now: number): Html {
  const sorted = [...rollouts].sort((a, b) => b.startedAt - a.startedAt || a.service.localeCompare(b.service));
  return html`<section aria-labelledby="rollouts-title">
<h2 id="rollouts-title">Recent rollouts <span class="muted">newest first</span></h2>
<div class="table-scroll"><table>
<thead><tr><th scope="col">Started</th><th scope="col">Service</th><th scope="col">Result</th><th scope="col">Commit</th><th scope="col">Subject</th><th scope="col">Author</th><th scope="col">Took</th><th scope="col">Failed hosts</th><th scope="col">Revert</th></tr></thead>
<tbody>${sorted.map(
    (rollout) =>
      html`<tr data-rollout="${rollout.rolloutId}"><td>${ago(rollout.startedAt, now)}</td><td>${rollout.service}</td><td><span class="pill tone-${toneOfWord(rollout.result)}" title="${rollout.code ?? ''}">${rollout.result}</span></td><td>${commit(rollout.commit)}</td><td class="subject">${rollout.subject}</td><td title="${rollout.author}">${authorName(rollout.author)}</td><td>${duration(rollout.endedAt - rollout.startedAt)}</td><td>${rollout.failedHosts.length === 0 ? html`<span class="muted">-</span>` : rollout.failedHosts.map((host) => html`<code>${host}</code> `)}</td><td>${rollout.revertCommit === undefined ? html`<span class="muted">-</span>` : commit(rollout.revertCommit)}</td></tr>`,
  )}</tbody>
</table></div>
</section>`;
}

/** `Name <email>` as git writes it: the name is what a person scans for; the whole is in the title. */
function authorName(author: string): string {
  return author.replace(/\s*<[^>]*>$/, '') || author;
}

/** A relative time in a table cell, with the absolute one on hover. */
function ago(at: number, now: number): Html {
  return html`<time datetime="${new Date(at).toISOString()}" title="${absolute(at)}">${relative(at, now)}</time>`;
}

/** Host and rollout states are open vocabularies; colour only the words whose meaning is certain. */
function toneOfWord(word: string): Tone {
  if (/^(healthy|succeeded|synced)$/i.test(word)) return 'good';
  if (/^(failed|unreachable|unhealthy|stalled|degraded|inactive)/i.test(word)) return 'bad';
  if (/^(running|progressing|starting|pending|superseded)/i.test(word)) return 'busy';
  return 'neutral';
}

function commit(sha: string | undefined): Html {
  if (sha === undefined) return html`<span class="muted">none</span>`;
  return html`<code class="sha" title="${sha}">${short(sha)}</code>`;
}

function short(sha: string | undefined): string {
  return sha === undefined ? 'none' : shortCommit(sha);
}

/** Relative for the glance, absolute (UTC: the server cannot know the reader's zone) for the incident notes. */
function when(at: number, now: number): Html {
  return html`${relative(at, now)} <time datetime="${new Date(at).toISOString()}">(${absolute(at)})</time>`;
}

function relative(at: number, now: number): string {
  const delta = at - now;
  const text = duration(Math.abs(delta));
  if (Math.abs(delta) < 1000) return 'now';
  return delta > 0 ? `in ${text}` : `${text} ago`;
}

function duration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 120) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

function absolute(at: number): string {
  return `${new Date(at).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

const TONE_COLOUR: Readonly<Record<Tone, string>> = { bad: '#c62828', busy: '#b26a00', good: '#2e7d32', neutral: '#607080' };

/** A coloured dot, so the browser tab tells the state; inline, because the page makes no other request. */
function faviconOf(tone: Tone): string {
  return `data:image/svg+xml,${encodeURIComponent(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="${TONE_COLOUR[tone]}"/></svg>`)}`;
}

/**
 * Markup built only through `html`: every interpolated string is escaped unless it is already `Html`, so
 * forgetting to escape takes a deliberate `raw(...)` rather than an omission.
 */
class Html {
  constructor(readonly text: string) {}
}

type HtmlValue = Html | string | number | undefined | readonly HtmlValue[];

function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): Html {
  let text = strings[0] ?? '';
  values.forEach((value, index) => {
    text += fragment(value) + (strings[index + 1] ?? '');
  });
  return new Html(text);
}

/** Only for constants of this file. */
function raw(text: string): Html {
  return new Html(text);
}

function fragment(value: HtmlValue): string {
  if (value === undefined) return '';
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(fragment).join('');
  return escapeHtml(String(value));
}

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ENTITIES[char] ?? char);
}

const STYLE = `
:root {
  --bg: #f4f5f7; --card: #ffffff; --text: #1d2330; --muted: #5f6b7a; --line: #dde1e7;
  --good: #1e6b2e; --good-bg: #e6f4ea; --bad: #b3261e; --bad-bg: #fdecea; --busy: #8a5300; --busy-bg: #fff4e0;
  --neutral: #3f4d5c; --neutral-bg: #eceff3; --code-bg: #eef0f3;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #14171c; --card: #1c2027; --text: #e3e6eb; --muted: #9aa4b1; --line: #2c323b;
    --good: #7fd18f; --good-bg: #17301e; --bad: #ff8a80; --bad-bg: #3a1a1a; --busy: #ffc46b; --busy-bg: #35290f;
    --neutral: #b8c2cf; --neutral-bg: #262b33; --code-bg: #262b33;
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--text); font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 60rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.35rem; line-height: 1.25; margin: 0 0 0.25rem; }
h2 { font-size: 1.05rem; margin: 1.5rem 0 0.6rem; }
.card h2 { margin-top: 0; }
h3 { font-size: 1.05rem; margin: 0; overflow-wrap: anywhere; }
p { margin: 0.4rem 0; }
code { font: 0.9em/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; background: var(--code-bg); padding: 0.05em 0.35em; border-radius: 4px; overflow-wrap: anywhere; }
.muted { color: var(--muted); font-weight: normal; }
.banner { display: flex; gap: 0.9rem; align-items: center; padding: 1rem 1.1rem; border-radius: 10px; border: 1px solid; }
.banner p { margin: 0; }
.banner-mark { flex: none; width: 2.4rem; height: 2.4rem; border-radius: 50%; display: grid; place-items: center; font-size: 1.3rem; font-weight: 700; color: #fff; }
.banner.tone-good { background: var(--good-bg); border-color: var(--good); }
.banner.tone-good .banner-mark { background: var(--good); }
.banner.tone-bad { background: var(--bad-bg); border-color: var(--bad); }
.banner.tone-bad .banner-mark { background: var(--bad); }
.banner.tone-busy { background: var(--busy-bg); border-color: var(--busy); }
.banner.tone-busy .banner-mark { background: var(--busy); }
.banner.tone-neutral { background: var(--neutral-bg); border-color: var(--neutral); }
.banner.tone-neutral .banner-mark { background: var(--neutral); }
@media (prefers-color-scheme: dark) { .banner-mark { color: #14171c; } }
.counts { list-style: none; display: flex; flex-wrap: wrap; gap: 0.4rem; padding: 0; margin: 0.8rem 0 0; }
.pill { display: inline-block; padding: 0.1rem 0.6rem; border-radius: 999px; font-size: 0.85rem; font-weight: 600; white-space: nowrap; }
.pill.tone-good { color: var(--good); background: var(--good-bg); }
.pill.tone-bad { color: var(--bad); background: var(--bad-bg); }
.pill.tone-busy { color: var(--busy); background: var(--busy-bg); }
.pill.tone-neutral { color: var(--neutral); background: var(--neutral-bg); }
.card, .service { background: var(--card); border: 1px solid var(--line); border-left: 4px solid var(--line); border-radius: 8px; padding: 0.9rem 1rem; margin: 0.8rem 0; }
.card.tone-bad, .service.tone-bad { border-left-color: var(--bad); }
.card.tone-busy, .service.tone-busy { border-left-color: var(--busy); }
.service.tone-good { border-left-color: var(--good); }
.service.tone-neutral { border-left-color: var(--neutral); }
.services { list-style: none; padding: 0; margin: 0; }
.service-head { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem; }
.service.compact { padding: 0.55rem 1rem; }
.service.compact p { margin: 0.15rem 0 0; font-size: 0.9rem; }
.message { font-weight: 500; overflow-wrap: anywhere; }
.hint { background: var(--neutral-bg); border-radius: 6px; padding: 0.5rem 0.7rem; overflow-wrap: anywhere; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; margin: 0.6rem 0 0; font-size: 0.92rem; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
dd .hint { margin-top: 0.4rem; }
time { color: var(--muted); font-size: 0.9em; }
.issues { margin: 0.6rem 0; padding-left: 1.3rem; }
.issues li { margin: 0.3rem 0; overflow-wrap: anywhere; }
.table-scroll { overflow-x: auto; background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { text-align: left; padding: 0.45rem 0.7rem; border-bottom: 1px solid var(--line); white-space: nowrap; vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
tbody tr:last-child td { border-bottom: none; }
tr.row-bad td { background: var(--bad-bg); }
td.subject { white-space: normal; min-width: 8rem; overflow-wrap: anywhere; }
td time { color: inherit; font-size: inherit; }
.empty { color: var(--muted); }
.in-flight { margin: 0.8rem 0 0; font-size: 0.92rem; overflow-wrap: anywhere; }
.chips code { margin-right: 0.25rem; }
footer { margin: 2rem 0 1rem; color: var(--muted); font-size: 0.85rem; }
footer a { color: inherit; }
@media (max-width: 30rem) {
  main { padding: 0.75rem; }
  .card, .service { padding: 0.8rem 0.85rem; }
  dl { gap: 0.3rem 0.75rem; }
  time { display: block; }
}
`;
