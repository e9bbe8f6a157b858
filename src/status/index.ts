export { STATES_WORST_FIRST, worstFirst } from './daemon-status.js';
export type { DaemonStatus, HostStatus, LeadershipStatus, ServiceState, ServiceStatus, SourceStatus } from './daemon-status.js';
export { RECENT_ROLLOUTS, statusOf } from './status-of.js';
export type { StatusFacts } from './status-of.js';
