import type { DaemonStatus } from '../status/index.js';
import { TendError } from '../errors/index.js';
import { DEFAULT_INCIDENT_POLICY, IncidentTracker, type IncidentPolicy } from './incident-tracker.js';
import type { Logger } from './logger.js';
import { notificationJson, slackMessage, type NotificationFormat } from './notification-payload.js';
import { DEFAULT_DELIVERY_POLICY, WebhookQueue, type DeliveryPolicy, type WebhookEffects } from './webhook-delivery.js';

export interface NotificationSink {
  /**
   * Compares with the previous status and queues what changed for a person: never blocks, never throws.
   * Call it after every status change and on a timer (each poll tick will do): reminders and settled
   * recoveries are decided here, from `now`.
   */
  observe(status: DaemonStatus, now: number): void;
  /** Resolves once every queued notification was delivered or given up on (shutdown, tests). */
  drain(): Promise<void>;
}

export interface NotificationSinkOptions {
  /** The webhook. It may carry a token (Slack's do): it is never logged, only its origin. */
  readonly url: string;
  readonly format: NotificationFormat;
  /** Where the status page is, linked from every notification. */
  readonly statusUrl?: string;
  readonly logger: Logger;
  readonly incidents?: Partial<IncidentPolicy>;
  readonly delivery?: Partial<DeliveryPolicy>;
  readonly effects?: Partial<WebhookEffects>;
}

/** The optional webhook sink for state transitions: errors, reminders and recoveries, deduplicated. */
export function createNotificationSink(options: NotificationSinkOptions): NotificationSink {
  const url = webhookUrl(options.url);
  const tracker = new IncidentTracker({ ...DEFAULT_INCIDENT_POLICY, ...options.incidents });
  const queue = new WebhookQueue(
    url,
    { ...DEFAULT_DELIVERY_POLICY, ...options.delivery },
    {
      fetch: options.effects?.fetch ?? fetch,
      sleep: options.effects?.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
      clock: options.effects?.clock ?? Date.now,
    },
    options.logger,
  );
  const logger = options.logger;
  return {
    observe(status, now) {
      try {
        for (const notification of tracker.observe(status, now)) {
          const body = options.format === 'slack' ? slackMessage(notification, options.statusUrl) : notificationJson(notification, options.statusUrl);
          logger.info({ event: notification.event, key: notification.key, service: notification.service, code: notification.code }, 'notification queued');
          queue.enqueue(JSON.stringify(body), { event: notification.event, key: notification.key });
        }
      } catch (error) {
        // Notifications are a courtesy: a bug in them must never fail the reconcile pass that reported status.
        logger.error({ err: error instanceof Error ? error.message : String(error) }, 'notification sink failed');
      }
    },
    drain: () => queue.drain(),
  };
}

/** Checked at start-up so a typo is a config error, not a stream of failed deliveries; the URL stays out of the message. */
function webhookUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TendError('E_NOTIFY_URL', 'invalid', 'the notification webhook URL is not a valid URL', {
      hint: 'Give the full URL, for example https://hooks.slack.com/services/...; it is not shown here because it may carry a token.',
    });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TendError('E_NOTIFY_URL', 'invalid', `the notification webhook URL must be http or https, not ${url.protocol.replace(/:$/, '')}`, {
      hint: 'Use the https:// URL your chat or alerting tool gives for incoming webhooks.',
    });
  }
  return url;
}
