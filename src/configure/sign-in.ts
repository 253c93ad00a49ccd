// A valid SSO token for a session, signing in (with the caller's browser / device-code choice) only when
// no stored or refreshable token exists. `getSsoToken` alone cannot take those choices, so: ask without
// sign-in first, then sign in through the `signIn` hook and ask again.
import type { Engine } from '../engine/engine.js';
import { classifyError } from '../engine/classify.js';
import type { SsoAccessToken } from '../engine/types.js';

export interface TokenForSessionOptions {
  ssoSession: string;
  noBrowser?: boolean;
  useDeviceCode?: boolean;
  /** Sign in even when a valid token exists (e.g. the session was just created). */
  forceSignIn?: boolean;
}

export async function tokenForSession(
  engine: Engine,
  options: TokenForSessionOptions,
): Promise<SsoAccessToken> {
  const signIn = async () => {
    await engine.signIn({
      ssoSession: options.ssoSession,
      ...(options.noBrowser ? { noBrowser: true } : {}),
      ...(options.useDeviceCode ? { useDeviceCode: true } : {}),
    });
    return engine.getSsoToken({ ssoSession: options.ssoSession, allowSignIn: false });
  };
  if (options.forceSignIn) return signIn();
  try {
    return await engine.getSsoToken({ ssoSession: options.ssoSession, allowSignIn: false });
  } catch (err) {
    // Only "a person must sign in" leads to a sign-in; configuration and network failures are reported.
    if (classifyError(err).class !== 'token-expired') throw err;
    return signIn();
  }
}
