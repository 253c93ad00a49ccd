// SSO portal (restJson1, unsigned, bearer token in `x-amz-sso_bearer_token`): GetRoleCredentials,
// ListAccounts, ListAccountRoles (paginated), Logout. Unknown, expired or revoked tokens get 401.
import type { Emu } from './context.js';
import { header, restJsonError, sendJson, type Exchange } from './http.js';
import { secretAccessKey, sessionToken, stableUniqueId, temporaryAccessKeyId } from './ids.js';
import { ssoRoleArn, ssoRoleResourceName, type SsoSessionRecord } from './store.js';

function authorize(emu: Emu, ex: Exchange): SsoSessionRecord | undefined {
  const session = emu.store.sessionForAccessToken(header(ex, 'x-amz-sso_bearer_token'), emu.clock.now());
  if (!session) {
    restJsonError(ex, 401, 'UnauthorizedException', { message: 'Session token not found or invalid' });
    return undefined;
  }
  ex.params.username = session.username;
  if (session.scopes.length > 0 && !session.scopes.includes('sso:account:access')) {
    restJsonError(ex, 401, 'UnauthorizedException', {
      message: 'Session token does not have the sso:account:access scope',
    });
    return undefined;
  }
  return session;
}

function invalidRequest(ex: Exchange, message: string): void {
  restJsonError(ex, 400, 'InvalidRequestException', { message });
}

interface Page<T> {
  items: T[];
  nextToken?: string;
}

/** Opaque page tokens bound to the listing they came from. */
function paginate<T>(ex: Exchange, all: T[], listing: string): Page<T> | undefined {
  const maxRaw = ex.url.searchParams.get('max_result');
  const max = maxRaw === null ? 20 : Number(maxRaw);
  if (!Number.isInteger(max) || max < 1 || max > 100) {
    invalidRequest(ex, 'max_result must be an integer between 1 and 100');
    return undefined;
  }
  let offset = 0;
  const token = ex.url.searchParams.get('next_token');
  if (token) {
    try {
      const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
        l?: unknown;
        o?: unknown;
      };
      if (parsed.l !== listing || typeof parsed.o !== 'number' || parsed.o < 0 || parsed.o > all.length)
        throw new Error();
      offset = parsed.o;
    } catch {
      invalidRequest(ex, 'Invalid next token');
      return undefined;
    }
  }
  const items = all.slice(offset, offset + max);
  const end = offset + items.length;
  const page: Page<T> = { items };
  if (end < all.length)
    page.nextToken = Buffer.from(JSON.stringify({ l: listing, o: end })).toString('base64url');
  return page;
}

export function handleListAccounts(emu: Emu, ex: Exchange): void {
  if (!authorize(emu, ex)) return;
  const page = paginate(
    ex,
    emu.store.state.accounts.map((a) => ({
      accountId: a.accountId,
      accountName: a.accountName,
      emailAddress: a.emailAddress,
    })),
    'accounts',
  );
  if (!page) return;
  sendJson(ex, 200, { accountList: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) });
}

export function handleListAccountRoles(emu: Emu, ex: Exchange): void {
  const accountId = ex.url.searchParams.get('account_id');
  if (accountId) ex.params.accountId = accountId;
  if (!authorize(emu, ex)) return;
  if (!accountId) return invalidRequest(ex, 'account_id is required');
  const account = emu.store.state.accounts.find((a) => a.accountId === accountId);
  const roles = (account?.roles ?? []).map((r) => ({ roleName: r.roleName, accountId }));
  const page = paginate(ex, roles, `roles:${accountId}`);
  if (!page) return;
  sendJson(ex, 200, { roleList: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) });
}

export function handleGetRoleCredentials(emu: Emu, ex: Exchange): void {
  const accountId = ex.url.searchParams.get('account_id');
  const roleName = ex.url.searchParams.get('role_name');
  if (accountId) ex.params.accountId = accountId;
  if (roleName) ex.params.roleName = roleName;
  const session = authorize(emu, ex);
  if (!session) return;
  if (!accountId || !roleName) return invalidRequest(ex, 'account_id and role_name are required');
  const role = emu.store.state.accounts
    .find((a) => a.accountId === accountId)
    ?.roles.find((r) => r.roleName === roleName);
  if (!role) return restJsonError(ex, 403, 'ForbiddenException', { message: 'No access' });
  const now = emu.clock.now();
  const expiresAt = now + emu.settings().roleCredentialSeconds * 1000;
  const resource = ssoRoleResourceName(accountId, roleName);
  const cred = {
    accessKeyId: temporaryAccessKeyId(),
    secretAccessKey: secretAccessKey(),
    sessionToken: sessionToken(),
    expiresAt,
  };
  emu.store.credentials.set(cred.accessKeyId, {
    ...cred,
    principal: {
      accountId,
      arn: `arn:aws:sts::${accountId}:assumed-role/${resource}/${session.username}`,
      userId: `${stableUniqueId('AROA', ssoRoleArn(accountId, roleName))}:${session.username}`,
      trustArn: ssoRoleArn(accountId, roleName),
      deny: role.deny,
      assumedRole: true,
      sessionName: session.username,
    },
  });
  sendJson(ex, 200, {
    roleCredentials: {
      accessKeyId: cred.accessKeyId,
      secretAccessKey: cred.secretAccessKey,
      sessionToken: cred.sessionToken,
      expiration: expiresAt,
    },
  });
}

/** Ends the sign-in session: its access and refresh tokens stop working; issued credentials stay valid. */
export function handleLogout(emu: Emu, ex: Exchange): void {
  const session = authorize(emu, ex);
  if (!session) return;
  emu.store.revokeSession(session.id);
  ex.res.writeHead(200, { 'content-length': 0, 'x-amzn-requestid': ex.requestId });
  ex.res.end();
}
