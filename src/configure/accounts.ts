// Every account and role an SSO sign-in can use: ListAccounts, then ListAccountRoles per account (both
// paginated), through the engine's SDK client factory and its recovery (retry plugin). Shared with `roles`.
import type { Engine } from '../engine/engine.js';
import type { SsoAccessToken } from '../engine/types.js';
import type { AccountRole, AccountRoles } from './types.js';

export interface ListOptions {
  /** Accounts whose roles are listed at the same time (default 4). */
  concurrency?: number;
  /** Called after each account's roles arrive, e.g. to update a progress line. */
  onAccount?: (done: number, total: number) => void;
}

/** Accounts sorted by name (then id), each with its roles sorted by name. */
export async function listAccountRoles(
  engine: Engine,
  token: SsoAccessToken,
  options: ListOptions = {},
): Promise<AccountRoles[]> {
  const { ListAccountsCommand, ListAccountRolesCommand } = await import('@aws-sdk/client-sso');
  const client = await engine.services.aws.sso({ region: token.region });
  try {
    const accounts: AccountRoles[] = [];
    let nextToken: string | undefined;
    do {
      const page = await engine.recover(
        {
          phase: 'command',
          operation: 'ListAccounts',
          ssoSession: token.session,
          action: 'sso:ListAccounts',
        },
        () =>
          client.send(
            new ListAccountsCommand({
              accessToken: token.accessToken,
              maxResults: 100,
              ...(nextToken ? { nextToken } : {}),
            }),
          ),
      );
      for (const a of page.accountList ?? []) {
        if (!a.accountId) continue;
        accounts.push({
          accountId: a.accountId,
          accountName: a.accountName ?? a.accountId,
          emailAddress: a.emailAddress,
          roles: [],
        });
      }
      nextToken = page.nextToken || undefined;
    } while (nextToken);

    let done = 0;
    const rolesOf = async (account: AccountRoles) => {
      let next: string | undefined;
      do {
        const page = await engine.recover(
          {
            phase: 'command',
            operation: `ListAccountRoles ${account.accountId}`,
            ssoSession: token.session,
            action: 'sso:ListAccountRoles',
          },
          () =>
            client.send(
              new ListAccountRolesCommand({
                accessToken: token.accessToken,
                accountId: account.accountId,
                maxResults: 100,
                ...(next ? { nextToken: next } : {}),
              }),
            ),
        );
        for (const r of page.roleList ?? []) if (r.roleName) account.roles.push(r.roleName);
        next = page.nextToken || undefined;
      } while (next);
      account.roles.sort((x, y) => x.localeCompare(y));
      options.onAccount?.(++done, accounts.length);
    };
    const queue = [...accounts];
    const workers = Array.from(
      { length: Math.max(1, Math.min(options.concurrency ?? 4, queue.length)) },
      async () => {
        for (let a = queue.shift(); a; a = queue.shift()) await rolesOf(a);
      },
    );
    await Promise.all(workers);
    return accounts.sort(
      (x, y) => x.accountName.localeCompare(y.accountName) || x.accountId.localeCompare(y.accountId),
    );
  } finally {
    client.destroy();
  }
}

/** The (account, role) pairs of a listing, in listing order. */
export function accountRolePairs(accounts: readonly AccountRoles[]): AccountRole[] {
  return accounts.flatMap((a) =>
    a.roles.map((roleName) => ({ accountId: a.accountId, accountName: a.accountName, roleName })),
  );
}
