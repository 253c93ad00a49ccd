// The `status` line for token storage: where tokens live, and the trade of sharing with the AWS CLI.
import type { Settings, StatusEntry } from '../../src/plugin-kit/index.js';
import type { KeychainState } from './types.js';

const CACHE = '~/.aws/sso/cache';

export function tokenStoreStatus(
  state: KeychainState | undefined,
  settings: Readonly<Settings>,
): StatusEntry {
  if (!state) {
    return {
      kind: 'token-store',
      name: 'keychain',
      state: 'off',
      ok: true,
      detail: settings.shareWithAwsCli
        ? `settings.keychain is off: tokens are kept in the AWS CLI cache (${CACHE}, plaintext on disk)`
        : 'settings.keychain and settings.shareWithAwsCli are off: tokens are not kept between runs',
    };
  }
  if (state.state === 'unavailable') {
    return {
      kind: 'token-store',
      name: 'keychain',
      state: 'unavailable',
      ok: true,
      detail: settings.shareWithAwsCli
        ? `${state.detail} (${CACHE}, plaintext on disk)`
        : `${state.detail} (${CACHE}, plaintext on disk), although settings.shareWithAwsCli is off: there is nowhere else to keep them`,
    };
  }
  if (state.state === 'locked') {
    return { kind: 'token-store', name: 'keychain', state: 'locked', ok: false, detail: state.detail };
  }
  return {
    kind: 'token-store',
    name: 'keychain',
    state: 'available',
    ok: true,
    detail: settings.shareWithAwsCli
      ? `${state.detail}; also shared with the AWS CLI cache (${CACHE}, plaintext on disk) so \`aws\` uses the same sign-in`
      : `${state.detail}; no plaintext token on disk; the AWS CLI will not share the sign-in (run \`aws sso login\` for it separately)`,
  };
}
