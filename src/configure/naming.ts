// Profile names from a template ("{account_name}-{role_name}"), reduced to the characters the AWS SDK
// accepts in a `[profile NAME]` header.
import { UsageError } from '../engine/errors.js';
import type { AccountRole } from './types.js';

export const DEFAULT_TEMPLATE = '{account_name}-{role_name}';
const FIELDS = ['account_name', 'account_id', 'role_name'] as const;

/** Throws a UsageError naming the flag when the template has unknown fields or cannot vary by role. */
export function checkTemplate(template: string, flag = '--template'): void {
  const used = [...template.matchAll(/\{([^}]*)\}/g)].map((m) => m[1] ?? '');
  const unknown = used.find((f) => !(FIELDS as readonly string[]).includes(f));
  if (unknown !== undefined) {
    throw new UsageError(`${flag} "${template}": unknown field {${unknown}}`, {
      hint: `use ${FIELDS.map((f) => `{${f}}`).join(', ')}`,
    });
  }
  if (!used.includes('role_name')) {
    throw new UsageError(`${flag} "${template}": the name must include {role_name}`, {
      hint: `otherwise two roles of one account get the same name; e.g. ${DEFAULT_TEMPLATE}`,
    });
  }
}

/** Replaces runs of characters the SDK does not allow in profile names with "-". */
export function sanitizeProfileName(name: string): string {
  return name
    .replace(/[^\w@+.%:/-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .replace(/-{2,}/g, '-');
}

export function profileNameFor(pair: AccountRole, template = DEFAULT_TEMPLATE, prefix = ''): string {
  const values: Record<string, string> = {
    account_name: pair.accountName || pair.accountId,
    account_id: pair.accountId,
    role_name: pair.roleName,
  };
  const raw = template.replace(/\{([^}]*)\}/g, (_, f: string) => values[f] ?? '');
  return sanitizeProfileName(`${prefix}${raw}`);
}
