// Public API of the AWS shared-config model and SSO caches.
export { AwsConfigError, LockTimeoutError, displayPath } from './errors.js';
export { oneLine, shortValue } from '../text/shorten.js';
export {
  appendSection,
  configFileView,
  documentLineNumbers,
  documentRawLineNumbers,
  documentRawSections,
  documentToSections,
  mergeSectionMaps,
  parseIni,
  removeKey,
  serialize,
  setKey,
} from './ini.js';
export {
  buildSharedConfig,
  configFilePath,
  credentialsFilePath,
  homeDir,
  loadSharedConfig,
  resolveRegion,
  sharedConfigFromText,
  type LoadSharedConfigOptions,
} from './shared-config.js';
export { classifyProfile, getProfile, parseRoleArn, parseScopes, resolveRoleChain } from './profiles.js';
export { describeProfiles } from './describe.js';
export {
  assertProfileUsable,
  startUrlProblem,
  validateConfig,
  validateProfile,
  type ValidationResult,
} from './validate.js';
export { ignoresConfiguredEndpoints, resolveEndpointUrl, SERVICE_IDS } from './endpoints.js';
export { fsyncDir, writeFileAtomic, type AtomicWriteOptions } from './atomic-write.js';
export { withFileLock, type LockOptions } from './file-lock.js';
export { formatCacheDate, parseCacheDate } from './cache-file.js';
export {
  deleteSsoToken,
  readSsoToken,
  ssoCacheDir,
  tokenCacheKey,
  tokenCachePath,
  withTokenLock,
  writeSsoToken,
  type CacheOptions,
  type WriteResult,
} from './sso-cache.js';
export {
  checkRegistration,
  findRegistration,
  legacyRegistrationCacheName,
  pythonJsonDumpsSorted,
  readRegistration,
  registrationCacheKey,
  registrationCachePath,
  writeRegistration,
  REGISTRATION_EXPIRY_MARGIN_MS,
  type RegistrationCheck,
  type RegistrationKeyInput,
} from './registration-cache.js';
export type * from './types.js';
export {
  resolveLocalCredentials,
  runCredentialProcess,
  splitCommandLine,
  type AwsCredentials,
  type ProcessOptions,
} from './credentials.js';
