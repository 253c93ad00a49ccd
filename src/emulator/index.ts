// Local AWS emulator: SSO OIDC, SSO portal, STS and SSM (plus the Session Manager data channel) on one
// HTTP + WebSocket port on 127.0.0.1, for the real AWS SDK v3 clients and the AWS CLI.
export { startEmulator, emulatorEnv } from './server.js';
export {
  loadEmulatorState,
  resolveEmulatorState,
  seedState,
  EmulatorStateError,
  SEED_USERNAME,
  SEED_PASSWORD,
  SEED_STATIC_ACCESS_KEY_ID,
  SEED_STATIC_SECRET_ACCESS_KEY,
  SEED_MFA_SERIAL,
  SEED_MFA_CODE,
} from './state.js';
export { ssoRoleArn } from './store.js';
export { totp } from './mfa.js';
export { runEmulatorCommand, type EmulatorCommandOptions } from './cli-entry.js';
export type * from './types.js';
