// The `status` line for the keychain: whether tokens are kept there. Whether the AWS CLI cache also gets them
// is the sso plugin's setting and its own status line (plugins/sso/status.ts).
import type { StatusEntry } from '../../src/plugin-kit/index.js';
import type { KeychainState } from './types.js';

export function tokenStoreStatus(state: KeychainState | undefined): StatusEntry {
  if (!state) {
    return {
      kind: 'token-store',
      name: 'keychain',
      state: 'off',
      ok: true,
      detail: 'keychain is off (settings.keychain: false): tokens are not kept in the OS keychain',
    };
  }
  if (state.state === 'locked') {
    return { kind: 'token-store', name: 'keychain', state: 'locked', ok: false, detail: state.detail };
  }
  return { kind: 'token-store', name: 'keychain', state: state.state, ok: true, detail: state.detail };
}
