// Admin API for tests and demos: in-process helpers (RunningEmulator.admin) and the same operations over
// HTTP under /_emulator/. Never returns tokens or secrets.
import { parseRealismValue, REALISM_KEYS } from './agent/index.js';
import type { Emu } from './context.js';
import { FaultError } from './faults.js';
import { FleetError, replaceInstance, restartTask } from './fleet.js';
import { parseJsonBody, sendJson, type Exchange } from './http.js';
import { currentMfaCode } from './mfa.js';
import { approveAuthorization, approveDeviceAuth, denyAuthorization, denyDeviceAuth } from './oidc.js';
import type {
  ApprovalResult,
  DataChannelFaultsInput,
  EmulatorAdmin,
  EmulatorSettingsInput,
  FaultSpec,
  InstancePatch,
  RevokeSpec,
} from './types.js';

export class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const SETTING_KEYS = [
  'accessTokenSeconds',
  'refreshTokenSeconds',
  'deviceCodeSeconds',
  'pollIntervalSeconds',
  'roleCredentialSeconds',
  'clientRegistrationSeconds',
  'authorizationCodeSeconds',
] as const;

export function createAdmin(emu: Emu, reset: () => Promise<void>): EmulatorAdmin {
  const agentSession = (id: string) => {
    const s = emu.registry.get(id);
    if (!s) throw new AdminError(404, `no session ${id}`);
    return s;
  };
  const firstUser = () => emu.store.state.users[0]?.username ?? '';
  const userOrThrow = (username?: string) => {
    const u = username ?? firstUser();
    if (!emu.store.state.users.some((x) => x.username === u)) throw new AdminError(400, `unknown user ${u}`);
    return u;
  };
  const pendingDevices = (userCode?: string) => {
    const now = emu.clock.now();
    const list = [...emu.store.deviceAuths.values()].filter(
      (d) =>
        d.status === 'pending' &&
        d.expiresAt > now &&
        (!userCode || d.userCode === userCode.trim().toUpperCase()),
    );
    if (list.length === 0)
      throw new AdminError(
        404,
        userCode ? `no pending device authorization ${userCode}` : 'no pending device authorization',
      );
    return list;
  };
  const pendingAuths = (id?: string) => {
    const list = [...emu.store.authorizations.values()].filter(
      (a) => a.status === 'pending' && (!id || a.id === id),
    );
    if (list.length === 0)
      throw new AdminError(404, id ? `no pending authorization ${id}` : 'no pending authorization');
    return list;
  };
  const follow = async (url: string): Promise<ApprovalResult> => {
    // Acts as the user's browser following the redirect to the loopback callback.
    try {
      const u = new URL(url);
      if (u.protocol !== 'http:' || !['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) {
        return { redirectUrl: url, callbackError: 'not a loopback http callback; not followed' };
      }
      const r = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(5000) });
      await r.body?.cancel();
      return { redirectUrl: url, callbackStatus: r.status };
    } catch (err) {
      return { redirectUrl: url, callbackError: (err as Error).message };
    }
  };

  return {
    approveDevice(userCode, username) {
      const user = userOrThrow(username);
      return pendingDevices(userCode).map((d) => (approveDeviceAuth(d, user), {}));
    },
    denyDevice(userCode) {
      return pendingDevices(userCode).map((d) => (denyDeviceAuth(d), {}));
    },
    listDeviceAuthorizations() {
      const now = emu.clock.now();
      return [...emu.store.deviceAuths.values()].map((d) => ({
        userCode: d.userCode,
        clientName: emu.store.clients.get(d.clientId)?.clientName ?? '',
        status: d.status === 'pending' && d.expiresAt <= now ? 'expired' : d.status,
        expiresAt: new Date(d.expiresAt).toISOString(),
      }));
    },
    async approveAuthorization(opts = {}) {
      const user = userOrThrow(opts.username);
      const urls = pendingAuths(opts.id).map((a) => (a.redirectUrl = approveAuthorization(emu, a, user)));
      return opts.follow === false ? urls.map((u) => ({ redirectUrl: u })) : Promise.all(urls.map(follow));
    },
    async denyAuthorization(opts = {}) {
      const urls = pendingAuths(opts.id).map((a) => (a.redirectUrl = denyAuthorization(a)));
      return opts.follow === false ? urls.map((u) => ({ redirectUrl: u })) : Promise.all(urls.map(follow));
    },
    listAuthorizations() {
      return [...emu.store.authorizations.values()].map((a) => ({
        id: a.id,
        clientName: emu.store.clients.get(a.clientId)?.clientName ?? '',
        redirectUri: a.redirectUri,
        status: a.status,
      }));
    },
    setAutoApprove(enabled) {
      emu.autoApprove = enabled;
    },
    revokeTokens(spec: RevokeSpec = {}) {
      const store = emu.store;
      const ids = new Set<string>();
      const byToken = (t?: string, map?: Map<string, { sessionId: string }>) => {
        const r = t ? map?.get(t) : undefined;
        if (r) ids.add(r.sessionId);
      };
      byToken(spec.accessToken, store.accessTokens);
      byToken(spec.refreshToken, store.refreshTokens);
      const targeted = spec.accessToken || spec.refreshToken || spec.clientId || spec.username;
      for (const s of store.ssoSessions.values()) {
        if (spec.all || !targeted) ids.add(s.id);
        else if (
          (spec.clientId && s.clientId === spec.clientId) ||
          (spec.username && s.username === spec.username)
        )
          ids.add(s.id);
      }
      let revoked = 0;
      for (const id of ids) {
        const s = store.ssoSessions.get(id);
        if (s && !s.revoked) {
          s.revoked = true;
          revoked++;
        }
      }
      return { revoked };
    },
    injectFault(spec: FaultSpec) {
      try {
        return emu.faults.add(spec);
      } catch (err) {
        if (err instanceof FaultError) throw new AdminError(400, err.message);
        throw err;
      }
    },
    listFaults: () => emu.faults.list(),
    clearFaults: () => emu.faults.clear(),
    advanceClock(ms) {
      if (!Number.isFinite(ms)) throw new AdminError(400, 'advance must be a finite number');
      emu.clock.offsetMs += ms;
      return { offsetMs: emu.clock.offsetMs, now: new Date(emu.clock.now()).toISOString() };
    },
    setSettings(input: EmulatorSettingsInput) {
      const settings = emu.store.state.settings;
      for (const k of SETTING_KEYS) {
        const v = input[k];
        if (v === undefined) continue;
        if (!Number.isInteger(v) || v < (k === 'pollIntervalSeconds' ? 0 : 1))
          throw new AdminError(400, `${k} must be a positive integer`);
        settings[k] = v;
      }
      if (input.agentVersion !== undefined) {
        if (!/^\d+\.\d+\.\d+\.\d+$/.test(input.agentVersion))
          throw new AdminError(400, 'agentVersion must have four parts');
        settings.agentVersion = input.agentVersion;
      }
      // Checked first, applied after: a bad value changes nothing. New sessions get them.
      const realism = { ...emu.dataChannel };
      for (const k of REALISM_KEYS) {
        if (input[k] === undefined) continue;
        const r = parseRealismValue(k, input[k]);
        if ('error' in r) throw new AdminError(400, r.error);
        (realism as Record<string, unknown>)[k] = r.value;
      }
      emu.dataChannel = realism;
      if (input.autoApprove !== undefined) emu.autoApprove = !!input.autoApprove;
    },
    setInstance(instanceId: string, patch: InstancePatch) {
      const inst = emu.store.state.instances.find((i) => i.instanceId === instanceId);
      if (!inst) throw new AdminError(404, `no instance ${instanceId}`);
      if (patch.pingStatus !== undefined) {
        if (!['Online', 'ConnectionLost', 'Inactive'].includes(patch.pingStatus))
          throw new AdminError(400, 'bad pingStatus');
        inst.pingStatus = patch.pingStatus;
      }
      if (patch.agentVersion !== undefined) inst.agentVersion = patch.agentVersion;
      if (patch.state !== undefined) {
        if (patch.state !== 'running') throw new AdminError(400, 'state can only be set to running');
        if (inst.state !== 'pending')
          throw new AdminError(409, `instance ${instanceId} is ${inst.state}, not pending`);
        inst.state = 'running';
        delete inst.onlineAt;
      }
    },
    replaceInstance(instanceId, options) {
      return fleet(() => replaceInstance(emu, instanceId, options));
    },
    restartTask(taskId) {
      return fleet(() => restartTask(emu, taskId));
    },
    mfaCode(serial: string) {
      const d = emu.store.state.mfaDevices.find((x) => x.serial === serial);
      if (!d) throw new AdminError(404, `no MFA device ${serial}`);
      return currentMfaCode(d, emu.clock.now());
    },
    listSessions() {
      return [...emu.store.ssmSessions.values()].map((s) => {
        const agent = emu.registry.get(s.sessionId);
        // The client can end a session on the data channel (Flag TerminateSession) without the API.
        const status = s.status === 'Terminated' || agent?.terminated ? 'Terminated' : 'Connected';
        return {
          sessionId: s.sessionId,
          instanceId: s.instanceId,
          documentName: s.documentName,
          status,
          owner: s.ownerArn,
          stats: agent?.stats(),
        };
      });
    },
    sessionFaults(id: string, f: DataChannelFaultsInput) {
      for (const k of ['dropRate', 'duplicateRate', 'reorderRate'] as const) {
        const v = f[k];
        if (v !== undefined && !(typeof v === 'number' && v >= 0 && v <= 1))
          throw new AdminError(400, `${k} must be in [0, 1]`);
      }
      agentSession(id).setFaults(f);
    },
    pauseSession: (id) => agentSession(id).pausePublication(),
    startSession: (id) => agentSession(id).startPublication(),
    closeSession: (id, code) => agentSession(id).closeConnection(code ?? 1000),
    killSession: (id) => agentSession(id).killConnection(),
    freezeSession: (id) => agentSession(id).freezeConnection(),
    channelClosed: (id, output) => agentSession(id).sendChannelClosed(output ?? ''),
    terminateSession(id, reason) {
      agentSession(id).terminate(reason);
      const rec = emu.store.ssmSessions.get(id);
      if (rec) rec.status = 'Terminated';
    },
    clearRequests: () => emu.log.clear(),
    reset,
  };
}

function fleet<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof FleetError) throw new AdminError(err.status, err.message);
    throw err;
  }
}

const ID_ROUTES = new Set(['sessions', 'instances', 'ecs-tasks']);

/** HTTP face of the admin helpers. */
export async function handleAdmin(emu: Emu, admin: EmulatorAdmin, ex: Exchange): Promise<void> {
  ex.service = 'admin';
  const method = ex.req.method ?? 'GET';
  const parts = ex.url.pathname
    .replace(/^\/_emulator\//, '')
    .split('/')
    .filter(Boolean)
    .map(decodeURIComponent);
  const body = method === 'POST' || method === 'PUT' ? parseJsonBody(ex) : {};
  if (!body) return sendJson(ex, 400, { message: 'body must be a JSON object' });
  const q = ex.url.searchParams;
  const s = (k: string) => (typeof body[k] === 'string' ? body[k] : (q.get(k) ?? undefined));
  const ok = (v: unknown = { ok: true }) => sendJson(ex, 200, v);
  const key = `${method} ${parts[0] ?? ''}${parts.length > 1 && !ID_ROUTES.has(parts[0] ?? '') ? '/' + parts.slice(1).join('/') : ''}`;
  try {
    switch (key) {
      case 'GET health':
        return ok({ ok: true, url: emu.url, startUrl: emu.startUrl });
      case 'GET requests':
        return ok({ requests: emu.log.list() });
      case 'DELETE requests':
        admin.clearRequests();
        return ok();
      case 'GET device':
        return ok({ deviceAuthorizations: admin.listDeviceAuthorizations() });
      case 'POST device/approve':
        return ok({ results: admin.approveDevice(s('userCode'), s('username')) });
      case 'POST device/deny':
        return ok({ results: admin.denyDevice(s('userCode')) });
      case 'GET authorizations':
        return ok({ authorizations: admin.listAuthorizations() });
      case 'POST authorizations/approve':
        return ok({
          results: await admin.approveAuthorization({
            id: s('id'),
            username: s('username'),
            follow: body.follow !== false,
          }),
        });
      case 'POST authorizations/deny':
        return ok({ results: await admin.denyAuthorization({ id: s('id'), follow: body.follow !== false }) });
      case 'POST auto-approve':
        admin.setAutoApprove(body.enabled !== false);
        return ok({ autoApprove: emu.autoApprove });
      case 'POST tokens/revoke':
        return ok(admin.revokeTokens(body));
      case 'GET faults':
        return ok({ faults: admin.listFaults() });
      case 'POST faults':
        return ok({ fault: admin.injectFault(body as unknown as FaultSpec) });
      case 'DELETE faults':
        admin.clearFaults();
        return ok();
      case 'GET clock':
        return ok({ offsetMs: emu.clock.offsetMs, now: new Date(emu.clock.now()).toISOString() });
      case 'POST clock': {
        const ms =
          typeof body.advanceMs === 'number'
            ? body.advanceMs
            : typeof body.advanceSeconds === 'number'
              ? body.advanceSeconds * 1000
              : NaN;
        return ok(admin.advanceClock(ms));
      }
      case 'GET settings':
        return ok(settingsView(emu));
      case 'POST settings':
        admin.setSettings(body);
        return ok(settingsView(emu));
      case 'GET instances':
        return ok({ instances: emu.store.state.instances });
      case 'POST instances':
        if (!parts[1]) throw new AdminError(404, 'instance id missing');
        if (parts[2] === 'replace')
          return ok(
            admin.replaceInstance(parts[1], {
              ...(typeof body.onlineAfterMs === 'number' ? { onlineAfterMs: body.onlineAfterMs } : {}),
              ...(body.hold === true ? { hold: true } : {}),
            }),
          );
        admin.setInstance(parts[1], body);
        return ok();
      case 'GET ecs-tasks':
        return ok({ ecsTasks: emu.store.state.ecsTasks });
      case 'POST ecs-tasks':
        if (!parts[1] || parts[2] !== 'restart')
          throw new AdminError(404, 'use POST ecs-tasks/<taskId>/restart');
        return ok(admin.restartTask(parts[1]));
      case 'GET databases':
        return ok({ databases: emu.store.state.databases });
      case 'GET mfa': {
        const serial = s('serial');
        if (!serial) throw new AdminError(400, 'serial is required');
        return ok({ serial, code: admin.mfaCode(serial) });
      }
      case 'GET sessions':
        return ok({ sessions: admin.listSessions() });
      case 'POST sessions':
        return sessionAction(admin, parts[1], parts[2], body, ok);
      case 'POST reset':
        await admin.reset();
        return ok();
    }
    sendJson(ex, 404, { message: `unknown admin route ${method} ${ex.url.pathname}` });
  } catch (err) {
    if (err instanceof AdminError) return sendJson(ex, err.status, { message: err.message });
    throw err;
  }
}

function settingsView(emu: Emu) {
  return {
    settings: emu.store.state.settings,
    dataChannel: emu.dataChannel,
    pacing: emu.dataChannel.pacing,
    autoApprove: emu.autoApprove,
  };
}

function sessionAction(
  admin: EmulatorAdmin,
  id: string | undefined,
  action: string | undefined,
  body: Record<string, unknown>,
  ok: (v?: unknown) => void,
): void {
  if (!id) throw new AdminError(404, 'session id missing');
  switch (action) {
    case 'faults':
      admin.sessionFaults(id, body);
      return ok();
    case 'pause':
      admin.pauseSession(id);
      return ok();
    case 'start':
      admin.startSession(id);
      return ok();
    case 'close':
      admin.closeSession(id, typeof body.code === 'number' ? body.code : 1000);
      return ok();
    case 'kill':
      admin.killSession(id);
      return ok();
    case 'freeze':
      admin.freezeSession(id);
      return ok();
    case 'channel-closed':
      admin.channelClosed(id, typeof body.output === 'string' ? body.output : '');
      return ok();
    case 'terminate':
      admin.terminateSession(id, typeof body.reason === 'string' ? body.reason : undefined);
      return ok();
  }
  throw new AdminError(404, `unknown session action ${action ?? ''}`);
}
