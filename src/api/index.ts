export { startApiServer } from './http-server.js';
export type { ApiServer, ApiServerOptions, DaemonApi } from './http-server.js';
