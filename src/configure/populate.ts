// `stormtunnel configure populate`: one profile per account and role of an sso-session, named from a
// template; profiles that exist (by name, or for the same session, account and role) are left untouched.
import { configFileView, displayPath, documentToSections, serialize } from '../aws/index.js';
import type { IniDocument } from '../aws/index.js';
import type { Engine } from '../engine/engine.js';
import { UsageError } from '../engine/errors.js';
import { accountRolePairs, listAccountRoles } from './accounts.js';
import { planEdit, readAwsConfigForEdit, writeAwsConfig } from './config-file.js';
import { unifiedDiff } from './diff.js';
import { sectionValues, upsertProfile } from './edits.js';
import { checkFlag, checks } from './inputs.js';
import { checkTemplate, DEFAULT_TEMPLATE, profileNameFor } from './naming.js';
import { tokenForSession } from './sign-in.js';
import type { AccountRole, ConfigEditPlan, PopulateEntry, PopulateOptions } from './types.js';
import type { WizardIo } from './wizard-io.js';

/** What populate would do to a document, without writing. */
export function planPopulate(
  doc: IniDocument,
  pairs: readonly AccountRole[],
  options: PopulateOptions & { sessionRegion: string | undefined },
): { doc: IniDocument; entries: PopulateEntry[] } {
  const template = options.template ?? DEFAULT_TEMPLATE;
  const names = pairs.map((p) => profileNameFor(p, template, options.prefix ?? ''));
  // Two accounts with the same name would collide: those names get the account id.
  const count = new Map<string, number>();
  for (const n of names) count.set(n, (count.get(n) ?? 0) + 1);
  const profiles = configFileView(documentToSections(doc));
  const entries: PopulateEntry[] = [];
  let next = doc;
  pairs.forEach((pair, i) => {
    let name = names[i] as string;
    if ((count.get(name) ?? 0) > 1) name = `${name}-${pair.accountId}`;
    const base = {
      profile: name,
      accountId: pair.accountId,
      accountName: pair.accountName,
      roleName: pair.roleName,
    };
    const same = Object.entries(profiles).find(
      ([key, v]) =>
        !key.startsWith('sso-session.') &&
        !key.startsWith('services.') &&
        v.sso_session === options.ssoSession &&
        v.sso_account_id === pair.accountId &&
        v.sso_role_name === pair.roleName,
    );
    if (same) {
      entries.push({
        ...base,
        profile: same[0],
        action: 'already-configured',
        detail: `as profile "${same[0]}"`,
      });
      return;
    }
    if (Object.hasOwn(profiles, name) || entries.some((e) => e.profile === name && e.action === 'add')) {
      entries.push({
        ...base,
        action: 'exists',
        detail: 'a profile with this name has other settings; left untouched',
      });
      return;
    }
    next = upsertProfile(next, {
      name,
      ssoSession: options.ssoSession,
      accountId: pair.accountId,
      roleName: pair.roleName,
      region: options.region ?? options.sessionRegion,
    }).doc;
    entries.push({ ...base, action: 'add' });
  });
  return { doc: next, entries };
}

export interface PopulateDeps {
  engine: () => Promise<Engine>;
  io: WizardIo;
  configPath: string;
  home: string;
}

export interface PopulateRun extends PopulateOptions {
  dryRun?: boolean;
  noBrowser?: boolean;
  useDeviceCode?: boolean;
}

export interface PopulateResult {
  entries: PopulateEntry[];
  plan: ConfigEditPlan;
  /** The unified diff of the config file (empty when nothing changes). */
  diff: string;
  written: boolean;
  backup: string | undefined;
}

export async function runPopulate(deps: PopulateDeps, o: PopulateRun): Promise<PopulateResult> {
  checkFlag('--sso-session', o.ssoSession, checks.sessionName);
  checkFlag('--region', o.region, checks.region);
  if (o.prefix) checkFlag('--prefix', o.prefix, checks.profileName);
  if (o.template !== undefined) checkTemplate(o.template);
  const shown = displayPath(deps.configPath, deps.home);
  const current = await readAwsConfigForEdit(deps.configPath, deps.home);
  const session = sectionValues(current.doc, `sso-session.${o.ssoSession}`);
  if (!session?.sso_start_url) {
    throw new UsageError(
      `--sso-session ${o.ssoSession}: no [sso-session ${o.ssoSession}] with an sso_start_url in ${shown}`,
      {
        hint: `create it first: stormtunnel configure sso --sso-session ${o.ssoSession}`,
      },
    );
  }
  const engine = await deps.engine();
  const token = await tokenForSession(engine, {
    ssoSession: o.ssoSession,
    ...(o.noBrowser ? { noBrowser: true } : {}),
    ...(o.useDeviceCode ? { useDeviceCode: true } : {}),
  });
  const progress = deps.io.progress('Listing accounts and roles');
  let pairs: AccountRole[];
  try {
    pairs = accountRolePairs(
      await listAccountRoles(engine, token, {
        onAccount: (done, total) => progress.update(`Listing roles (${done}/${total} accounts)`),
      }),
    );
    progress.succeed(`${pairs.length} roles`);
  } catch (err) {
    progress.fail('Could not list accounts and roles');
    throw err;
  }
  const planned = planPopulate(current.doc, pairs, { ...o, sessionRegion: session.sso_region });
  const plan = planEdit(current, serialize(planned.doc));
  const diff = unifiedDiff(plan.before, plan.after, {
    from: shown,
    to: `${shown} (after populate)`,
  });
  if (o.dryRun || !plan.changed) {
    return { entries: planned.entries, plan, diff, written: false, backup: undefined };
  }
  const result = await writeAwsConfig(plan);
  return { entries: planned.entries, plan, diff, written: true, backup: result.backup };
}
