// Routing by request shape on one port: SSO OIDC and portal by path, SSM and ECS by `x-amz-target`, the
// form-encoded services (STS, EC2, RDS) by the service of the SigV4 credential scope (AWS tells them apart
// by host name; one endpoint for all has only the signature), the admin API under /_emulator/, the pages.
import type { Emu } from './context.js';
import { header, jsonRpcError, redirect, restJsonError, type Exchange } from './http.js';
import { handleCreateToken, handleRegisterClient, handleStartDeviceAuthorization } from './oidc.js';
import {
  handleAuthorize,
  handleAuthorizeDecision,
  handleAuthorizeStatus,
  handleConsentPage,
  handleDeviceDecision,
  handleDevicePage,
  handleSignIn,
  handleSignOut,
  handleStartPage,
} from './pages.js';
import {
  handleGetRoleCredentials,
  handleListAccountRoles,
  handleListAccounts,
  handleLogout,
} from './portal.js';
import { handleEc2 } from './ec2.js';
import { ECS_TARGET_PREFIX, handleEcs } from './ecs.js';
import { handleRds } from './rds.js';
import { handleSsm } from './ssm.js';
import { handleSts, stsAction } from './sts.js';
import type { ServiceName } from './types.js';

export interface Route {
  service: ServiceName;
  operation: string;
  handle: (emu: Emu, ex: Exchange) => void | Promise<void>;
  /** AWS operations can have faults injected; pages and admin cannot. */
  faultable: boolean;
  /** Polling and admin calls stay out of the request log. */
  logged: boolean;
}

function aws(service: ServiceName, operation: string, handle: Route['handle']): Route {
  return { service, operation, handle, faultable: true, logged: true };
}

function pageRoute(operation: string, handle: Route['handle'], logged = true): Route {
  return { service: 'pages', operation, handle, faultable: false, logged };
}

const notFound: Route['handle'] = (_emu, ex) =>
  restJsonError(ex, 404, 'UnknownOperationException', {
    message: `No operation at ${ex.req.method} ${ex.url.pathname}`,
  });

export function route(ex: Exchange): Route | undefined {
  const method = ex.req.method ?? 'GET';
  const path = ex.url.pathname;
  if (path.startsWith('/_emulator/')) return undefined;

  const target = header(ex, 'x-amz-target');
  if (method === 'POST' && target) {
    const m = /^AmazonSSM\.(\w+)$/.exec(target);
    if (m) return aws('ssm', m[1] ?? 'Unknown', handleSsm);
    if (target.startsWith(ECS_TARGET_PREFIX))
      return aws('ecs', target.slice(ECS_TARGET_PREFIX.length), handleEcs);
    return aws('unknown', target, (_emu, e) =>
      jsonRpcError(e, 400, 'UnknownOperationException', `Unknown target ${target}`),
    );
  }

  if (method === 'POST') {
    switch (path) {
      case '/client/register':
        return aws('sso-oidc', 'RegisterClient', handleRegisterClient);
      case '/device_authorization':
        return aws('sso-oidc', 'StartDeviceAuthorization', handleStartDeviceAuthorization);
      case '/token':
        if (ex.url.searchParams.has('aws_iam')) {
          return aws('sso-oidc', 'CreateTokenWithIAM', (_emu, e) =>
            restJsonError(e, 400, 'UnsupportedGrantTypeException', {
              error: 'unsupported_grant_type',
              error_description: 'CreateTokenWithIAM is not emulated',
            }),
          );
        }
        return aws('sso-oidc', 'CreateToken', handleCreateToken);
      case '/logout':
        return aws('sso', 'Logout', handleLogout);
      case '/signin':
        return pageRoute('SignIn', handleSignIn);
      case '/signout':
        return pageRoute('SignOut', handleSignOut);
      case '/device/decision':
        return pageRoute('DeviceDecision', handleDeviceDecision);
      case '/authorize/decision':
        return pageRoute('AuthorizeDecision', handleAuthorizeDecision);
    }
    const ctype = header(ex, 'content-type') ?? '';
    if (path === '/' && ctype.startsWith('application/x-www-form-urlencoded')) {
      const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(header(ex, 'authorization') ?? '')?.[1];
      if (scope === 'ec2') return aws('ec2', stsAction(ex), handleEc2);
      if (scope === 'rds') return aws('rds', stsAction(ex), handleRds);
      return aws('sts', stsAction(ex), handleSts);
    }
    return { service: 'unknown', operation: 'Unknown', handle: notFound, faultable: false, logged: true };
  }

  if (method === 'GET') {
    switch (path) {
      case '/federation/credentials':
        return aws('sso', 'GetRoleCredentials', handleGetRoleCredentials);
      case '/assignment/accounts':
        return aws('sso', 'ListAccounts', handleListAccounts);
      case '/assignment/roles':
        return aws('sso', 'ListAccountRoles', handleListAccountRoles);
      case '/':
        return pageRoute('Index', (_emu, e) => redirect(e, '/start'), false);
      case '/start':
      case '/start/':
        return pageRoute('StartPage', handleStartPage);
      case '/device':
        return pageRoute('DevicePage', handleDevicePage);
      case '/authorize':
        return pageRoute('Authorize', handleAuthorize);
      case '/authorize/consent':
        return pageRoute('ConsentPage', handleConsentPage);
      case '/authorize/status':
        return pageRoute('AuthorizeStatus', handleAuthorizeStatus, false);
      case '/favicon.ico':
        return pageRoute(
          'Favicon',
          (_emu, e) => {
            e.res.writeHead(204);
            e.res.end();
          },
          false,
        );
    }
  }
  return { service: 'unknown', operation: 'Unknown', handle: notFound, faultable: false, logged: true };
}
