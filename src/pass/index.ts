export { preparePass } from './prepare-pass.js';
export type { PreparedPass } from './prepare-pass.js';
export { sshFleet } from './fleet.js';
export type { Fleet, FleetEffects } from './fleet.js';
