// The local control socket of a running `stormtunnel up` (server) and the clients `status`, `tunnel`,
// `reload` and `start` use.
export { queryRunningUp, runningUpsOf, sendControl } from './client.js';
export { startControlServer, type ControlHandlers, type ControlServer } from './server.js';
export { logDir, socketPath, stateDir } from './paths.js';
export type { ControlChanges, ControlRequest, ControlResponse, RunningProcess, RunningUp } from './types.js';
