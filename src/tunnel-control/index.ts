// The local control socket of a running `stormtunnel up` (server) and the client `status` uses.
export { queryRunningUp } from './client.js';
export { startControlServer, type ControlServer } from './server.js';
export { socketPath, stateDir } from './paths.js';
export type { ControlRequest, ControlResponse, RunningUp } from './types.js';
