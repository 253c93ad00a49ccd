// What one caller can see of the emulated resources: its own account (an item without an account belongs to
// the first account) in the request's signing region. AWS APIs silently omit other accounts' resources.
import type { Emu } from './context.js';
import type { CredentialRecord } from './store.js';

export function visibleTo<T extends { accountId?: string | undefined; region: string }>(
  emu: Emu,
  caller: CredentialRecord,
  region: string,
  items: readonly T[],
): T[] {
  const first = emu.store.state.accounts[0]?.accountId;
  return items.filter((i) => (i.accountId ?? first) === caller.principal.accountId && i.region === region);
}

/** The action is denied to the caller (the seed's `deny` lists); the handler answers in its protocol. */
export function isDenied(caller: CredentialRecord, action: string): boolean {
  return caller.principal.deny.includes(action);
}

export function deniedMessage(caller: CredentialRecord, action: string, resource = '*'): string {
  const arn = caller.principal.arn;
  return `User: ${arn} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`;
}
