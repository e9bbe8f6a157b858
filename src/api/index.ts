export { startApiServer } from './http-server.js';
export type { ApiServer, ApiServerOptions, DaemonApi, Readiness } from './http-server.js';
export { renderStatusPage, STATUS_PAGE_HEADERS } from './status-page.js';
export type { StatusPageOptions } from './status-page.js';
