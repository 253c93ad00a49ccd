// Example plugin (beforeConnect): tunnels may name their target by tag, `target: 'tag:Name=bastion'`. This
// plugin looks the instance up with SSM DescribeInstanceInformation, with the tunnel's own credentials and
// region, puts the instance id in the draft, and stops tunnels that reach production (a production account,
// or an instance whose Name starts with "prod-") unless the tunnel is on the `allowProduction` list.
//
//   plugins: [...builtinPlugins(), nameTagGuard({ allowProduction: ['prod-db'] })]
import { DescribeInstanceInformationCommand, type InstanceInformation } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { z } from 'zod';
import {
  parsePluginOptions,
  type ConnectDraft,
  type PluginApi,
  type StormtunnelPlugin,
  type Veto,
} from 'stormtunnel';

export const NAME = 'name-tag-guard';

const optionsSchema = z.strictObject({
  /** Tunnels (by name) that may reach production. */
  allowProduction: z.array(z.string().min(1)).default([]),
  /** Accounts that count as production. */
  productionAccounts: z
    .array(z.string().regex(/^\d{12}$/, 'expected a 12-digit account id'))
    .default(['222222222222']),
  /** Instances whose Name starts with this count as production. */
  productionNamePrefix: z.string().min(1).default('prod-'),
});

export type NameTagGuardOptions = z.input<typeof optionsSchema>;

/** What the plugin leaves in `draft.annotations['name-tag-guard']` for later plugins (e.g. an audit log). */
export interface NameTagAnnotation {
  selector: string | undefined;
  instanceId: string;
  name: string | undefined;
  account: string;
  production: boolean;
}

const TAG = /^tag:([^=]+)=(.+)$/;

export function nameTagGuard(options?: NameTagGuardOptions): StormtunnelPlugin {
  const opts = parsePluginOptions(NAME, optionsSchema, options);
  return {
    name: NAME,
    apply(api) {
      api.hooks.beforeConnect.tapPromise(async (draft): Promise<Veto | undefined> => {
        // The built-in targets plugin resolves tag selectors before beforeConnect; the draft keeps what the
        // config asked for. Without it (a custom plugin list), this guard resolves the selector itself.
        const selector = TAG.exec(draft.resolution?.requested.target ?? draft.target);
        let instance: InstanceInformation | undefined;
        if (selector && TAG.test(draft.target)) {
          const [, key, value] = selector as unknown as [string, string, string];
          const found = await describe(api, draft, { Key: `tag:${key}`, Values: [value] });
          // Several matches: the first online one, as Session Manager can only reach those.
          instance = found.find((i) => i.PingStatus === 'Online') ?? found[0];
          if (!instance?.InstanceId) {
            return {
              veto: true,
              reason: `no instance with tag ${key}=${value} is known to Session Manager in ${draft.region}`,
            };
          }
          draft.target = instance.InstanceId;
        } else {
          instance = (await describe(api, draft, { Key: 'InstanceIds', Values: [draft.target] }))[0];
        }
        const account = await accountOf(api, draft);
        // A `tag:Name=...` selector names the instance; otherwise SSM's Name (set for managed nodes, and by the
        // emulator for every instance; EC2 instances on real AWS need the selector to be judged by name).
        const name = selector?.[1] === 'Name' ? selector[2] : instance?.Name;
        const production =
          opts.productionAccounts.includes(account) || Boolean(name?.startsWith(opts.productionNamePrefix));
        const note: NameTagAnnotation = {
          selector: selector ? selector[0] : undefined,
          instanceId: draft.target,
          name,
          account,
          production,
        };
        draft.annotations[NAME] = note;
        if (production && !opts.allowProduction.includes(draft.tunnel)) {
          const what = `${draft.target}${name ? ` (${name})` : ''} in account ${account}`;
          return {
            veto: true,
            reason: `${what} is production; only ${opts.allowProduction.length ? opts.allowProduction.map((t) => `"${t}"`).join(', ') : 'tunnels on the allowProduction list'} may reach it`,
          };
        }
        api.logger.debug('target checked', { ...note });
        return undefined;
      });
    },
  };
}

/** DescribeInstanceInformation with the draft's credentials and region; throttling is retried by onError. */
async function describe(
  api: PluginApi,
  draft: ConnectDraft,
  filter: { Key: string; Values: string[] },
): Promise<InstanceInformation[]> {
  const ssm = await api.services.aws.ssm({ region: draft.region, credentials: needCredentials(draft) });
  const out = await api.recover(
    {
      phase: 'connect',
      operation: 'DescribeInstanceInformation',
      profile: draft.profile,
      action: 'ssm:DescribeInstanceInformation',
    },
    () => ssm.send(new DescribeInstanceInformationCommand({ Filters: [filter], MaxResults: 50 })),
  );
  return out.InstanceInformationList ?? [];
}

/** The account of the draft's credentials: from the credentials when the plugin that made them knew it. */
async function accountOf(api: PluginApi, draft: ConnectDraft): Promise<string> {
  const credentials = needCredentials(draft);
  if (credentials.accountId) return credentials.accountId;
  const sts = await api.services.aws.sts({ region: draft.region, credentials });
  const who = await api.recover(
    {
      phase: 'connect',
      operation: 'GetCallerIdentity',
      profile: draft.profile,
      action: 'sts:GetCallerIdentity',
    },
    () => sts.send(new GetCallerIdentityCommand({})),
  );
  if (!who.Account) throw new Error('GetCallerIdentity returned no account');
  return who.Account;
}

function needCredentials(draft: ConnectDraft) {
  // The engine resolves credentials before beforeConnect runs; a draft without them is an engine bug.
  if (!draft.credentials)
    throw new Error(`tunnel "${draft.tunnel}" reached beforeConnect without credentials`);
  return draft.credentials;
}
