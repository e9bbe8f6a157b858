export { createLogger } from './logger.js';
export type { Logger, LoggerOptions } from './logger.js';
export { TendMetrics } from './metrics.js';
export type { PassResult, RolloutMetricResult, RollbackResult, StatusSample, TendMetricsOptions } from './metrics.js';
export { createNotificationSink } from './notifications.js';
export type { NotificationSink, NotificationSinkOptions } from './notifications.js';
export type { IncidentPolicy, IncidentScope, Notification, NotificationEvent } from './incident-tracker.js';
export type { NotificationFormat, NotificationJson } from './notification-payload.js';
export type { DeliveryPolicy } from './webhook-delivery.js';
