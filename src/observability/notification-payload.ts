import { shortCommit } from '../source/commit-id.js';
import type { Notification } from './incident-tracker.js';

/** `json`: tend's own shape, for scripts and alert routers. `slack`: an incoming-webhook message (`text` + `blocks`). */
export type NotificationFormat = 'json' | 'slack';

/** The generic webhook body. Absent values are `null` so every key is always present. */
export interface NotificationJson {
  readonly event: Notification['event'];
  readonly key: string;
  readonly scope: Notification['scope'];
  readonly service: string | null;
  readonly services: readonly string[];
  readonly state: string | null;
  readonly code: string;
  readonly errorClass: string | null;
  readonly message: string;
  readonly hint: string | null;
  readonly commit: string | null;
  /** ISO 8601. */
  readonly since: string;
  readonly at: string;
  readonly statusUrl: string | null;
}

export interface SlackMessage {
  readonly text: string;
  readonly blocks?: readonly unknown[];
}

export function notificationJson(notification: Notification, statusUrl: string | undefined): NotificationJson {
  return {
    event: notification.event,
    key: notification.key,
    scope: notification.scope,
    service: notification.service ?? null,
    services: notification.services,
    state: notification.state ?? null,
    code: notification.code,
    errorClass: notification.errorClass ?? null,
    message: notification.message,
    hint: notification.hint ?? null,
    commit: notification.commit ?? null,
    since: new Date(notification.since).toISOString(),
    at: new Date(notification.at).toISOString(),
    statusUrl: statusUrl ?? null,
  };
}

/** Slack refuses a section text over 3000 characters; messages carry host output, so cut them first. */
const SLACK_TEXT_LIMIT = 2900;

export function slackMessage(notification: Notification, statusUrl: string | undefined): SlackMessage {
  const title = slackTitle(notification);
  const details = [
    notification.commit === undefined ? undefined : `commit \`${shortCommit(notification.commit)}\``,
    notification.errorClass === undefined ? undefined : `class ${notification.errorClass}`,
    `${notification.event === 'recovery' ? 'healthy since' : 'since'} ${new Date(notification.since).toISOString().slice(0, 19).replace('T', ' ')} UTC`,
    notification.scope === 'service' ? undefined : `services: ${notification.services.join(', ') || 'none'}`,
    statusUrl === undefined ? undefined : `<${statusUrl}|status page>`,
  ].filter((one): one is string => one !== undefined);
  return {
    text: slackEscape(`${title}: ${notification.message}`),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: cut(`*${slackEscape(title)}*\n${slackEscape(notification.message)}`) } },
      ...(notification.hint === undefined ? [] : [{ type: 'section', text: { type: 'mrkdwn', text: cut(`*What to do:* ${slackEscape(notification.hint)}`) } }]),
      { type: 'context', elements: [{ type: 'mrkdwn', text: details.map((one) => (one.startsWith('<') ? one : slackEscape(one))).join(' · ') }] },
    ],
  };
}

function slackTitle(notification: Notification): string {
  const subject =
    notification.scope === 'service'
      ? (notification.service ?? 'a service')
      : notification.scope === 'shared'
        ? `${notification.services.length} services`
        : SUBJECT_OF_SCOPE[notification.scope];
  switch (notification.event) {
    case 'error':
      return `:red_circle: ${subject} ${notification.state ?? 'failing'}: ${notification.code}`;
    case 'reminder':
      return `:large_orange_circle: still failing: ${subject} ${notification.state ?? 'failing'}: ${notification.code}`;
    case 'recovery':
      return `:large_green_circle: recovered: ${subject}${notification.state === undefined ? '' : ` ${notification.state}`} (was ${notification.code})`;
  }
}

const SUBJECT_OF_SCOPE: Readonly<Record<'repo' | 'source', string>> = {
  repo: 'the deploy repo',
  source: 'fetching the deploy repo',
};

/** Slack reads `<`, `>` and `&` as markup (links, mentions): a message quoting host output must not ping @channel. */
function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function cut(text: string): string {
  return text.length <= SLACK_TEXT_LIMIT ? text : `${text.slice(0, SLACK_TEXT_LIMIT)}…`;
}
