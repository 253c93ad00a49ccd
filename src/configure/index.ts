// Public API of `stormtunnel configure`: the SSO wizard, populate, account listing and safe config edits.
export { accountRolePairs, listAccountRoles, type ListOptions } from './accounts.js';
export {
  backupPath,
  ConfigNotEditableError,
  planEdit,
  readAwsConfigForEdit,
  writeAwsConfig,
  type AwsConfigText,
} from './config-file.js';
export { unifiedDiff } from './diff.js';
export { profileHeader, upsertProfile, upsertSession } from './edits.js';
export { checkTemplate, DEFAULT_TEMPLATE, profileNameFor, sanitizeProfileName } from './naming.js';
export { filterChoices, pick, PickCancelledError, type Choice, type PickerIo } from './picker.js';
export {
  planPopulate,
  runPopulate,
  type PopulateDeps,
  type PopulateResult,
  type PopulateRun,
} from './populate.js';
export { tokenForSession, type TokenForSessionOptions } from './sign-in.js';
export { checkWizardFlags, missingFlags, runSsoWizard, type SsoWizardDeps } from './sso-wizard.js';
export { addTunnelToConfig, insertTunnel, tunnelLiteral } from './tunnel-config.js';
export { terminalWizardIo, type AskOptions, type WizardIo } from './wizard-io.js';
export type * from './types.js';
