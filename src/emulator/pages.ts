// Browser pages: the portal start URL, the device verification page and the PKCE authorize page, each with
// a sign-in form and Allow / Deny buttons. Plain HTML forms so any real browser (or curl) can drive them.
import { randomUUID } from 'node:crypto';
import type { Emu } from './context.js';
import { header, parseForm, redirect, sendHtml, type Exchange } from './http.js';
import { randomToken } from './ids.js';
import {
  approveAuthorization,
  approveDeviceAuth,
  denyAuthorization,
  denyDeviceAuth,
  redirectUriAllowed,
  withQuery,
} from './oidc.js';
import type { AuthorizationRecord, BrowserSession } from './store.js';

const COOKIE = 'stormtunnel_emulator_session';

function esc(s: string): string {
  return s.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&#39;', '"': '&quot;' })[c] ?? c,
  );
}

function page(title: string, body: string, script = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)} - stormtunnel emulator</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem}
.code{font:700 2rem monospace;letter-spacing:.2rem}.err{color:#b00020}button{font-size:1rem;margin:.3rem .5rem .3rem 0;padding:.4rem 1rem}
label{display:block;margin:.6rem 0}input{font-size:1rem;padding:.3rem}</style></head>
<body><p><small>AWS IAM Identity Center (stormtunnel emulator)</small></p>
<h1>${esc(title)}</h1>
${body}${script ? `<script>${script}</script>` : ''}
</body></html>`;
}

function browserSession(emu: Emu, ex: Exchange): BrowserSession | undefined {
  const cookies = header(ex, 'cookie') ?? '';
  for (const part of cookies.split(';')) {
    const [k, v] = part.trim().split('=');
    if (k === COOKIE && v) return emu.store.browserSessions.get(v);
  }
  return undefined;
}

function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/start';
}

function signInPage(ex: Exchange, next: string, error?: string, status = 200): void {
  ex.params.page = 'sign-in';
  sendHtml(
    ex,
    status,
    page(
      'Sign in',
      `${error ? `<p class="err" id="error">${esc(error)}</p>` : ''}
<form method="post" action="/signin" id="signin-form">
<input type="hidden" name="next" value="${esc(next)}">
<label>Username <input id="username" name="username" autocomplete="username" required></label>
<label>Password <input id="password" name="password" type="password" autocomplete="current-password" required></label>
<button type="submit" id="signin">Sign in</button>
</form>`,
    ),
  );
}

function resultPage(ex: Exchange, title: string, message: string, status = 200): void {
  sendHtml(ex, status, page(title, `<p id="result">${esc(message)}</p>`));
}

export function handleSignIn(emu: Emu, ex: Exchange): void {
  const form = parseForm(ex);
  const username = form.get('username') ?? '';
  const next = safeNext(form.get('next'));
  ex.params.username = username;
  const user = emu.store.state.users.find((u) => u.username === username);
  if (!user || user.password !== (form.get('password') ?? '')) {
    ex.errorCode = 'InvalidCredentials';
    return signInPage(ex, next, 'Invalid username or password.', 401);
  }
  const s: BrowserSession = { id: randomToken('', 24), username, csrf: randomToken('', 18) };
  emu.store.browserSessions.set(s.id, s);
  redirect(ex, next, { 'set-cookie': `${COOKIE}=${s.id}; Path=/; HttpOnly; SameSite=Lax` });
}

export function handleSignOut(emu: Emu, ex: Exchange): void {
  const s = browserSession(emu, ex);
  if (s) emu.store.browserSessions.delete(s.id);
  redirect(ex, '/start', { 'set-cookie': `${COOKIE}=; Path=/; Max-Age=0` });
}

export function handleStartPage(emu: Emu, ex: Exchange): void {
  const s = browserSession(emu, ex);
  if (!s) return signInPage(ex, '/start');
  ex.params.username = s.username;
  const accounts = emu.store.state.accounts
    .map(
      (a) =>
        `<li>${esc(a.accountName)} (${esc(a.accountId)})<ul>${a.roles.map((r) => `<li>${esc(r.roleName)}</li>`).join('')}</ul></li>`,
    )
    .join('');
  sendHtml(
    ex,
    200,
    page(
      'AWS access portal',
      `<p>Signed in as <b id="signed-in-user">${esc(s.username)}</b>.</p><ul id="accounts">${accounts}</ul>
<form method="post" action="/signout"><button type="submit" id="signout">Sign out</button></form>`,
    ),
  );
}

// ---- device verification ----

export function handleDevicePage(emu: Emu, ex: Exchange): void {
  const code = ex.url.searchParams.get('user_code');
  const s = browserSession(emu, ex);
  if (!s) return signInPage(ex, ex.url.pathname + ex.url.search);
  ex.params.username = s.username;
  if (!code) {
    return sendHtml(
      ex,
      200,
      page(
        'Authorize request',
        `<form method="get" action="/device"><label>Code <input id="user-code-input" name="user_code" required></label>
<button type="submit" id="next">Next</button></form>`,
      ),
    );
  }
  ex.params.userCode = code;
  const rec = emu.store.deviceAuthByUserCode(code);
  if (!rec)
    return resultPage(ex, 'Invalid code', 'This code is not valid. Check the code and try again.', 400);
  if (rec.expiresAt <= emu.clock.now()) return resultPage(ex, 'Code expired', 'This code has expired.', 400);
  if (rec.status !== 'pending') {
    return resultPage(
      ex,
      'Already handled',
      `This request was already ${rec.status === 'denied' ? 'denied' : 'approved'}.`,
    );
  }
  const client = emu.store.clients.get(rec.clientId);
  const form = (decision: string, label: string) =>
    `<form method="post" action="/device/decision" style="display:inline">
<input type="hidden" name="user_code" value="${esc(rec.userCode)}"><input type="hidden" name="csrf" value="${esc(s.csrf)}">
<input type="hidden" name="decision" value="${decision}"><button type="submit" id="${decision}">${label}</button></form>`;
  sendHtml(
    ex,
    200,
    page(
      'Authorize request',
      `<p>Allow <b id="client-name">${esc(client?.clientName ?? 'unknown')}</b> to access your data?</p>
<p>Confirm that this code matches the one shown by the application:</p><p class="code" id="user-code">${esc(rec.userCode)}</p>
${form('allow', 'Allow access')}${form('deny', 'Deny access')}`,
    ),
  );
}

export function handleDeviceDecision(emu: Emu, ex: Exchange): void {
  const form = parseForm(ex);
  const s = browserSession(emu, ex);
  if (!s) return signInPage(ex, '/device', 'Sign in first.', 401);
  ex.params.username = s.username;
  if (form.get('csrf') !== s.csrf) return resultPage(ex, 'Error', 'The form expired. Reload the page.', 403);
  const code = form.get('user_code') ?? '';
  ex.params.userCode = code;
  const decision = form.get('decision');
  ex.params.decision = decision ?? '';
  const rec = emu.store.deviceAuthByUserCode(code);
  if (!rec || rec.expiresAt <= emu.clock.now())
    return resultPage(ex, 'Invalid code', 'This code is not valid or expired.', 400);
  if (decision === 'allow' && approveDeviceAuth(rec, s.username)) {
    return resultPage(ex, 'Request approved', 'You can close this window and return to the application.');
  }
  if (decision === 'deny' && denyDeviceAuth(rec)) {
    return resultPage(ex, 'Request denied', 'The application was not given access.');
  }
  resultPage(ex, 'Already handled', `This request was already ${rec.status}.`, 409);
}

// ---- PKCE authorization ----

export function handleAuthorize(emu: Emu, ex: Exchange): void {
  const q = ex.url.searchParams;
  const clientId = q.get('client_id') ?? '';
  const redirectUri = q.get('redirect_uri') ?? '';
  const client = emu.store.clients.get(clientId);
  if (client) ex.params.clientName = client.clientName;
  ex.params.redirectUri = redirectUri;
  // Without a known client and registered redirect URI there is nowhere safe to send errors.
  if (!client || client.expiresAt <= emu.clock.now()) {
    ex.errorCode = 'invalid_client';
    return resultPage(ex, 'Invalid request', 'The client is not registered.', 400);
  }
  if (!redirectUriAllowed(client, redirectUri)) {
    ex.errorCode = 'invalid_redirect_uri';
    return resultPage(ex, 'Invalid request', 'The redirect URI is not registered for this client.', 400);
  }
  const state = q.get('state') ?? undefined;
  const fail = (error: string, description: string) => {
    ex.errorCode = error;
    redirect(ex, withQuery(redirectUri, { error, error_description: description, state }));
  };
  if (q.get('response_type') !== 'code')
    return fail('unsupported_response_type', 'response_type must be code');
  if (!client.grantTypes.includes('authorization_code')) {
    return fail('unauthorized_client', 'Client is not registered for the authorization_code grant');
  }
  const challenge = q.get('code_challenge') ?? '';
  if (q.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(challenge)) {
    return fail('invalid_request', 'PKCE with code_challenge_method=S256 is required');
  }
  const requested = (q.get('scopes') ?? q.get('scope') ?? '').split(/[\s,]+/).filter(Boolean);
  if (requested.some((sc) => !client.scopes.includes(sc)))
    return fail('invalid_scope', 'Scope not registered for this client');
  ex.params.scopes = requested;
  const auth: AuthorizationRecord = {
    id: randomUUID(),
    clientId,
    redirectUri,
    state,
    codeChallenge: challenge,
    scopes: requested.length ? requested : client.scopes,
    status: 'pending',
    createdAt: emu.clock.now(),
  };
  emu.store.authorizations.set(auth.id, auth);
  ex.params.authorizationId = auth.id;
  if (emu.autoApprove) {
    auth.redirectUrl = approveAuthorization(emu, auth, emu.store.state.users[0]?.username ?? '');
    return redirect(ex, auth.redirectUrl);
  }
  redirect(ex, `/authorize/consent?id=${auth.id}`);
}

export function handleConsentPage(emu: Emu, ex: Exchange): void {
  const id = ex.url.searchParams.get('id') ?? '';
  ex.params.authorizationId = id;
  const auth = emu.store.authorizations.get(id);
  if (!auth) return resultPage(ex, 'Invalid request', 'Unknown authorization request.', 400);
  if (auth.status !== 'pending' && auth.redirectUrl) return redirect(ex, auth.redirectUrl);
  const s = browserSession(emu, ex);
  if (!s) return signInPage(ex, ex.url.pathname + ex.url.search);
  ex.params.username = s.username;
  const client = emu.store.clients.get(auth.clientId);
  const form = (decision: string, label: string) =>
    `<form method="post" action="/authorize/decision" style="display:inline">
<input type="hidden" name="id" value="${esc(auth.id)}"><input type="hidden" name="csrf" value="${esc(s.csrf)}">
<input type="hidden" name="decision" value="${decision}"><button type="submit" id="${decision}">${label}</button></form>`;
  // Follows an approval made through the admin API while this page is open.
  const poll = `setInterval(async()=>{try{const r=await fetch('/authorize/status?id=${encodeURIComponent(auth.id)}');
const j=await r.json();if(j.redirectUrl)location.href=j.redirectUrl}catch(e){}},1000);`;
  sendHtml(
    ex,
    200,
    page(
      'Allow access',
      `<p>Allow <b id="client-name">${esc(client?.clientName ?? 'unknown')}</b> to access your data?</p>
<p>Scopes: <span id="scopes">${esc(auth.scopes.join(' ') || '(none)')}</span></p>
${form('allow', 'Allow access')}${form('deny', 'Deny access')}`,
      poll,
    ),
  );
}

export function handleAuthorizeDecision(emu: Emu, ex: Exchange): void {
  const form = parseForm(ex);
  const id = form.get('id') ?? '';
  ex.params.authorizationId = id;
  const s = browserSession(emu, ex);
  if (!s) return signInPage(ex, `/authorize/consent?id=${encodeURIComponent(id)}`, 'Sign in first.', 401);
  ex.params.username = s.username;
  if (form.get('csrf') !== s.csrf) return resultPage(ex, 'Error', 'The form expired. Reload the page.', 403);
  const auth = emu.store.authorizations.get(id);
  if (!auth) return resultPage(ex, 'Invalid request', 'Unknown authorization request.', 400);
  if (auth.status !== 'pending') {
    return auth.redirectUrl
      ? redirect(ex, auth.redirectUrl)
      : resultPage(ex, 'Already handled', 'Already handled.', 409);
  }
  const decision = form.get('decision');
  ex.params.decision = decision ?? '';
  auth.redirectUrl =
    decision === 'allow' ? approveAuthorization(emu, auth, s.username) : denyAuthorization(auth);
  redirect(ex, auth.redirectUrl);
}

export function handleAuthorizeStatus(emu: Emu, ex: Exchange): void {
  const auth = emu.store.authorizations.get(ex.url.searchParams.get('id') ?? '');
  ex.params.authorizationId = auth?.id ?? '';
  const body = auth ? { status: auth.status, redirectUrl: auth.redirectUrl } : { status: 'unknown' };
  ex.res.writeHead(auth ? 200 : 404, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  ex.res.end(JSON.stringify(body));
}
