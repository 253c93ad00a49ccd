// `stormtunnel configure sso`: the AWS CLI's `configure sso` wizard, through the engine. The sso-session is
// written before the sign-in (the sso plugin reads it from ~/.aws/config), the profile after the role is
// chosen; every answer may come from a flag, and without a terminal a missing one is an error naming it.
import { displayPath, serialize, sharedConfigFromText, validateProfile } from '../aws/index.js';
import type { IniDocument } from '../aws/index.js';
import type { Engine } from '../engine/engine.js';
import { StormtunnelError, UsageError } from '../engine/errors.js';
import { accountRolePairs, listAccountRoles } from './accounts.js';
import { planEdit, readAwsConfigForEdit, writeAwsConfig } from './config-file.js';
import { profileHeader, profileValues, sectionValues, upsertProfile, upsertSession } from './edits.js';
import { checkFlag, checks, DEFAULT_SCOPES, parseScopeList, portNumber } from './inputs.js';
import { profileNameFor, sanitizeProfileName } from './naming.js';
import type { Choice } from './picker.js';
import { tokenForSession } from './sign-in.js';
import { addTunnelToConfig, type AddTunnelOptions } from './tunnel-config.js';
import type {
  AccountRole,
  SectionChange,
  SsoProfileSpec,
  SsoSessionSpec,
  SsoWizardOptions,
  SsoWizardResult,
  TunnelConfigResult,
  TunnelSpec,
} from './types.js';
import type { WizardIo } from './wizard-io.js';

export interface SsoWizardDeps {
  /** The engine (with the sso plugin); created after the sso-session is written. */
  engine: () => Promise<Engine>;
  io: WizardIo;
  /** ~/.aws/config (AWS_CONFIG_FILE honoured by the caller). */
  configPath: string;
  home: string;
  /** Where a tunnel goes: the stormtunnel config in use, if any, and the folder for a new one. */
  tunnelConfig: Omit<AddTunnelOptions, 'file'> & { file: () => Promise<string | undefined> };
}

const DEFAULT_SSO_REGION = 'us-east-1';

/** Rejects bad flag values before anything is asked or written. */
export function checkWizardFlags(o: SsoWizardOptions): void {
  checkFlag('--sso-session', o.ssoSession, checks.sessionName);
  checkFlag('--start-url', o.startUrl, checks.startUrl);
  checkFlag('--sso-region', o.ssoRegion, checks.region);
  checkFlag('--scopes', o.scopes, checks.scopes);
  checkFlag('--account-id', o.accountId, checks.accountId);
  checkFlag('--role-name', o.roleName, checks.roleName);
  checkFlag('--profile-name', o.profileName, checks.profileName);
  checkFlag('--region', o.region, checks.region);
  checkFlag('--tunnel-name', o.tunnelName, checks.tunnelName);
  checkFlag('--target', o.target, checks.target);
  checkFlag('--remote-port', o.remotePort, checks.remotePort);
  checkFlag('--local-port', o.localPort, checks.localPort);
  if (o.addTunnel === false && (o.target || o.remotePort || o.localPort || o.tunnelName)) {
    throw new UsageError(
      '--no-add-tunnel cannot be combined with --target, --remote-port, --local-port or --tunnel-name',
    );
  }
}

/** The flags a run without a terminal still needs, given what the config already has. */
export function missingFlags(o: SsoWizardOptions, doc: IniDocument): string[] {
  const missing: string[] = [];
  if (!o.ssoSession) missing.push('--sso-session <name>');
  const existing = o.ssoSession ? sectionValues(doc, `sso-session.${o.ssoSession}`) : undefined;
  if (!existing?.sso_start_url && !o.startUrl) missing.push('--start-url <url>');
  if (!existing?.sso_region && !o.ssoRegion) missing.push('--sso-region <region>');
  if (!o.accountId) missing.push('--account-id <id>');
  if (!o.roleName) missing.push('--role-name <role>');
  if (o.addTunnel) {
    if (!o.target) missing.push('--target <instance-id>');
    if (!o.remotePort) missing.push('--remote-port <port>');
  }
  return missing;
}

async function sessionSpec(o: SsoWizardOptions, io: WizardIo, doc: IniDocument): Promise<SsoSessionSpec> {
  const known = Object.keys(
    Object.fromEntries(
      doc.sections.filter((s) => s.header.prefix === 'sso-session').map((s) => [s.header.name, 1]),
    ),
  );
  let name = o.ssoSession;
  if (!name) {
    const NEW = '\u0000new';
    const picked = known.length
      ? await io.choose<string>('SSO session', [
          ...known.map((k) => ({ label: `${k} (existing)`, value: k, search: k })),
          { label: 'create a new SSO session', value: NEW, search: 'new create' },
        ])
      : NEW;
    name =
      picked !== NEW
        ? picked
        : await io.ask('SSO session name', {
            validate: (v) =>
              checks.sessionName(v) ??
              (known.includes(v) ? `"${v}" exists; choose it from the list` : undefined),
          });
  }
  const existing = sectionValues(doc, `sso-session.${name}`) ?? {};
  const differs = (flag: string, given: string | undefined, key: string, have: string | undefined) => {
    if (given !== undefined && have !== undefined && given !== have) {
      throw new UsageError(
        `${flag} "${given}" differs from ${key} = ${have} of [sso-session ${name}] in ${doc.file}`,
        {
          hint: `choose another --sso-session name for a new session, or edit [sso-session ${name}] yourself`,
        },
      );
    }
  };
  differs('--start-url', o.startUrl, 'sso_start_url', existing.sso_start_url);
  differs('--sso-region', o.ssoRegion, 'sso_region', existing.sso_region);
  if (o.scopes !== undefined && existing.sso_registration_scopes !== undefined) {
    const same =
      parseScopeList(o.scopes).join(',') === parseScopeList(existing.sso_registration_scopes).join(',');
    if (!same) differs('--scopes', o.scopes, 'sso_registration_scopes', existing.sso_registration_scopes);
  }
  if (existing.sso_start_url) {
    io.say(
      `Using [sso-session ${name}]: ${existing.sso_start_url} (${existing.sso_region ?? 'no sso_region yet'})`,
    );
  }
  const startUrl =
    existing.sso_start_url ?? o.startUrl ?? (await io.ask('SSO start URL', { validate: checks.startUrl }));
  const region =
    existing.sso_region ??
    o.ssoRegion ??
    (await io.ask('SSO region', { default: DEFAULT_SSO_REGION, validate: checks.region }));
  // An existing session without scopes keeps none unless --scopes says so (its registration stays valid).
  const scopes =
    existing.sso_registration_scopes ??
    o.scopes ??
    (existing.sso_start_url
      ? ''
      : io.interactive
        ? await io.ask('SSO registration scopes', { default: DEFAULT_SCOPES, validate: checks.scopes })
        : DEFAULT_SCOPES);
  return { name, startUrl, region, scopes: parseScopeList(scopes) };
}

function pairLabel(p: AccountRole): string {
  return `${p.accountName} (${p.accountId})  ${p.roleName}`;
}

async function choosePair(
  o: SsoWizardOptions,
  io: WizardIo,
  pairs: AccountRole[],
  session: string,
): Promise<AccountRole> {
  const accounts = [...new Set(pairs.map((p) => p.accountId))];
  let candidates = pairs;
  if (o.accountId) {
    candidates = candidates.filter((p) => p.accountId === o.accountId);
    if (!candidates.length) {
      throw new UsageError(
        `--account-id ${o.accountId}: SSO session "${session}" cannot reach that account`,
        {
          hint: `reachable accounts: ${accounts.join(', ')}`,
        },
      );
    }
  }
  if (o.roleName) {
    const withRole = candidates.filter((p) => p.roleName === o.roleName);
    if (!withRole.length) {
      const roles = [...new Set(candidates.map((p) => p.roleName))];
      throw new UsageError(
        `--role-name ${o.roleName}: not available${o.accountId ? ` in account ${o.accountId}` : ''} for SSO session "${session}"`,
        { hint: `available roles: ${roles.join(', ')}` },
      );
    }
    candidates = withRole;
  }
  if (candidates.length === 1) {
    const only = candidates[0] as AccountRole;
    io.say(`Using ${pairLabel(only)}`);
    return only;
  }
  const choices: Choice<AccountRole>[] = candidates.map((p) => ({
    label: pairLabel(p),
    value: p,
    search: `${p.accountName} ${p.accountId} ${p.roleName}`,
  }));
  return io.choose(`Account and role (${candidates.length} available)`, choices);
}

/** A short description of what a profile is now, for the "update it?" question. */
function describeProfile(values: Record<string, string>): string {
  if (values.sso_account_id || values.sso_role_name)
    return `account ${values.sso_account_id ?? '?'}, role ${values.sso_role_name ?? '?'}${values.sso_session ? `, session ${values.sso_session}` : ''}`;
  if (values.role_arn) return `role_arn ${values.role_arn}`;
  if (values.aws_access_key_id) return 'static keys';
  if (values.credential_process) return 'credential_process';
  return Object.keys(values).join(', ') || 'no settings';
}

async function profileSpec(
  o: SsoWizardOptions,
  io: WizardIo,
  doc: IniDocument,
  session: SsoSessionSpec,
  pair: AccountRole,
): Promise<SsoProfileSpec> {
  let suggested = o.profileName ?? sanitizeProfileName(profileNameFor(pair));
  for (;;) {
    const name =
      o.profileName ??
      (io.interactive
        ? await io.ask('Profile name', { default: suggested, validate: checks.profileName })
        : suggested);
    const have = profileValues(doc, name);
    const same =
      have?.sso_session === session.name &&
      have.sso_account_id === pair.accountId &&
      have.sso_role_name === pair.roleName;
    const conflicting = have !== undefined && !same && Object.keys(have).length > 0;
    if (conflicting && !o.yes) {
      const what = `profile "${name}" already exists (${describeProfile(have)})`;
      if (!io.interactive || o.profileName !== undefined) {
        throw new UsageError(`${what}; nothing was changed for it`, {
          hint: 'pass another --profile-name, or --yes to point it at the chosen account and role (a backup is kept)',
        });
      }
      if (!(await io.confirm(`${what}. Point it at ${pair.accountId} / ${pair.roleName}?`, false))) {
        suggested = `${name}-2`;
        continue;
      }
    }
    const region =
      o.region ??
      (io.interactive
        ? await io.ask('Default region for the profile', {
            default: have?.region ?? session.region,
            validate: checks.region,
          })
        : (have?.region ?? session.region));
    return { name, ssoSession: session.name, accountId: pair.accountId, roleName: pair.roleName, region };
  }
}

/** The choice that leaves the list for a typed target (a tag: or ecs: selector, a node not online now). */
const TYPE_TARGET = '\u0000type';

/**
 * The target: picked from the managed nodes online for the new profile, as `stormtunnel add` offers them, or
 * typed (the list's last choice, and what is asked when the nodes cannot be listed or none is online).
 */
async function targetFor(engine: Engine, io: WizardIo, profile: SsoProfileSpec): Promise<string> {
  const typed = () =>
    io.ask('Target (instance id, Name, tag:Key=Value or ecs:CLUSTER/SERVICE)', { validate: checks.target });
  // Nodes are listed per region: a profile without one has nothing to list.
  const region = profile.region;
  if (!io.interactive || !region) return typed();
  let choices: Choice<string>[];
  try {
    const where = { profile: profile.name, region };
    const credentials = await engine.resolveCredentials({
      ...where,
      purpose: { kind: 'command', command: 'configure' },
      chain: [],
    });
    const { listNodeChoices } = await import('../targets/node-choices.js');
    choices = await listNodeChoices(
      engine,
      { ...where, credentials },
      io.progress(`Listing managed nodes in ${region}`),
    );
  } catch (err) {
    const why = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    io.say(`Could not list the managed nodes of profile "${profile.name}": ${why}`);
    return typed();
  }
  if (!choices.length) {
    io.say(`No managed node is online for profile "${profile.name}" in ${region}.`);
    return typed();
  }
  const chosen = await io.choose('Target', [
    ...choices,
    {
      label: 'another target: type an id, Name, tag: or ecs: selector',
      value: TYPE_TARGET,
      search: 'another type',
    },
  ]);
  return chosen === TYPE_TARGET ? typed() : chosen;
}

async function tunnelSpec(
  o: SsoWizardOptions,
  io: WizardIo,
  profile: SsoProfileSpec,
  engine: Engine,
): Promise<TunnelSpec | undefined> {
  const wanted =
    o.addTunnel ??
    (io.interactive
      ? await io.confirm(`Add a tunnel for profile "${profile.name}" to the stormtunnel config?`, false)
      : false);
  if (!wanted) return undefined;
  const target = o.target ?? (await targetFor(engine, io, profile));
  const remotePort = o.remotePort ?? (await io.ask('Port on the target', { validate: checks.remotePort }));
  const localPort =
    o.localPort ??
    (io.interactive
      ? await io.ask('Local port (0 picks a free one)', { default: remotePort, validate: checks.localPort })
      : remotePort);
  const defaultName =
    sanitizeProfileName(profile.name)
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .slice(0, 63) || 'tunnel';
  const name =
    o.tunnelName ??
    (io.interactive
      ? await io.ask('Tunnel name', { default: defaultName, validate: checks.tunnelName })
      : defaultName);
  const problem = checks.tunnelName(name);
  if (problem) throw new UsageError(`tunnel name "${name}": ${problem}; pass --tunnel-name`);
  return {
    name,
    profile: profile.name,
    region: profile.region,
    target,
    remotePort: portNumber(remotePort, 1) as number,
    localPort: portNumber(localPort, 0) as number,
    ...(o.remoteHost ? { remoteHost: o.remoteHost } : {}),
  };
}

export async function runSsoWizard(deps: SsoWizardDeps, o: SsoWizardOptions): Promise<SsoWizardResult> {
  const { io } = deps;
  const shown = displayPath(deps.configPath, deps.home);
  checkWizardFlags(o);
  let current = await readAwsConfigForEdit(deps.configPath, deps.home);
  if (!io.interactive) {
    const missing = missingFlags(o, current.doc);
    if (missing.length) {
      throw new UsageError(`no terminal to ask the wizard's questions: pass ${missing.join(', ')}`, {
        hint: 'or run stormtunnel configure sso in a terminal',
      });
    }
  }
  const backups: string[] = [];
  const write = async (after: IniDocument) => {
    const result = await writeAwsConfig(planEdit(current, serialize(after)), {
      backup: backups.length === 0,
    });
    if (result.backup) backups.push(result.backup);
    current = await readAwsConfigForEdit(deps.configPath, deps.home);
  };

  // 1. The sso-session, written before the sign-in: the sso plugin finds the session in the file.
  const session = await sessionSpec(o, io, current.doc);
  const s = upsertSession(current.doc, session);
  const sessionChange: SectionChange = s.change;
  if (s.change !== 'unchanged') {
    await write(s.doc);
    io.say(`${s.change === 'added' ? 'Added' : 'Completed'} [sso-session ${session.name}] in ${shown}`);
  }

  // 2. Sign in (a new or changed session always signs in: a cached token may belong to an older start URL).
  const engine = await deps.engine();
  const token = await tokenForSession(engine, {
    ssoSession: session.name,
    forceSignIn: sessionChange !== 'unchanged',
    ...(o.noBrowser ? { noBrowser: true } : {}),
    ...(o.useDeviceCode ? { useDeviceCode: true } : {}),
  });

  // 3. Accounts and roles.
  const progress = io.progress('Listing accounts and roles');
  let pairs: AccountRole[];
  try {
    const accounts = await listAccountRoles(engine, token, {
      onAccount: (done, total) => progress.update(`Listing roles (${done}/${total} accounts)`),
    });
    pairs = accountRolePairs(accounts);
    progress.succeed(`${accounts.length} accounts, ${pairs.length} roles`);
  } catch (err) {
    progress.fail('Could not list accounts and roles');
    throw err;
  }
  if (!pairs.length) {
    throw new StormtunnelError(`SSO session "${session.name}" can use no account and role`, {
      hint: 'ask your IAM Identity Center administrator to assign you a permission set',
    });
  }
  const pair = await choosePair(o, io, pairs, session.name);

  // 4. The profile.
  const profile = await profileSpec(o, io, current.doc, session, pair);
  const p = upsertProfile(current.doc, profile);
  if (p.change !== 'unchanged') {
    const check = validateProfile(
      sharedConfigFromText({ config: serialize(p.doc), configPath: deps.configPath }),
      profile.name,
      {
        fileLevel: false,
      },
    );
    const first = check.errors[0];
    if (first) {
      throw new UsageError(
        `profile "${profile.name}" would not be usable after the change: ${first.detail}; nothing was written`,
        {
          hint: 'choose another --profile-name',
        },
      );
    }
    await write(p.doc);
  }
  const header = profileHeader(current.doc, profile.name).header;
  io.say(
    p.change === 'unchanged'
      ? `[${header}] already has these settings; nothing to change`
      : `${p.change === 'added' ? 'Added' : 'Updated'} [${header}] in ${shown}${backups[0] ? ` (backup: ${displayPath(backups[0], deps.home)})` : ''}`,
  );

  // 5. The tunnel.
  let tunnel: TunnelConfigResult | undefined;
  const t = await tunnelSpec(o, io, profile, engine);
  if (t) {
    tunnel = await addTunnelToConfig(t, { ...deps.tunnelConfig, file: await deps.tunnelConfig.file() });
    if (tunnel.kind === 'snippet') {
      io.say(
        `Did not edit ${tunnel.file ?? 'the stormtunnel config'}: ${tunnel.reason}. Add this to its tunnels:`,
      );
      io.say(tunnel.snippet);
    } else {
      io.say(`${tunnel.kind === 'created' ? 'Created' : 'Added tunnel "' + t.name + '" to'} ${tunnel.file}`);
    }
  }
  return { session, sessionChange, profile, profileChange: p.change, backups, tunnel };
}
