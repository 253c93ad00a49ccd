// Checks for every value the configure commands take, shared by flags (one-line UsageError naming the
// flag and value) and by the wizard's questions (asked again).
import { startUrlProblem } from '../aws/index.js';
import { REGION, tunnelSchema } from '../config/schema.js';
import { UsageError } from '../engine/errors.js';
import { SECTION_NAME_RE } from './edits.js';

export type Check = (value: string) => string | undefined;

export const DEFAULT_SCOPES = 'sso:account:access';

export const checks = {
  sessionName: (v) =>
    SECTION_NAME_RE.test(v) ? undefined : 'use letters, digits and _ - . @ + % : / (no spaces)',
  startUrl: (v) => {
    const problem = startUrlProblem(v);
    return problem
      ? `${problem}; use the AWS access portal URL, e.g. https://my-org.awsapps.com/start`
      : undefined;
  },
  region: (v) => (REGION.test(v) ? undefined : 'not a region name; use e.g. us-east-1'),
  scopes: (v) =>
    parseScopeList(v).length && parseScopeList(v).every((s) => /^[\w:.*/-]+$/.test(s))
      ? undefined
      : 'a comma-separated list of scopes, e.g. sso:account:access',
  accountId: (v) => (/^\d{12}$/.test(v) ? undefined : 'an account id is 12 digits'),
  roleName: (v) => (/^[\w+=,.@-]{1,128}$/.test(v) ? undefined : 'not a role (permission set) name'),
  profileName: (v) =>
    SECTION_NAME_RE.test(v) ? undefined : 'use letters, digits and _ - . @ + % : / (no spaces)',
  target: (v) =>
    tunnelSchema.shape.target.safeParse(v).success
      ? undefined
      : 'an instance id (i-0123456789abcdef0), a Name, tag:Key=value or ecs:CLUSTER/SERVICE',
  tunnelName: (v) =>
    tunnelSchema.shape.name.safeParse(v).success ? undefined : 'letters, digits, ".", "_" or "-", at most 63',
  remotePort: (v) => (portNumber(v, 1) === undefined ? 'a port number 1-65535' : undefined),
  localPort: (v) =>
    portNumber(v, 0) === undefined ? 'a port number 0-65535 (0 picks a free port)' : undefined,
} satisfies Record<string, Check>;

export function parseScopeList(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function portNumber(v: string, min: number): number | undefined {
  if (!/^\d{1,5}$/.test(v.trim())) return undefined;
  const n = Number(v);
  return n >= min && n <= 65535 ? n : undefined;
}

/** Throws `--flag "value": problem` (exit 2) when a given flag value fails its check. */
export function checkFlag(flag: string, value: string | undefined, check: Check): void {
  if (value === undefined) return;
  const problem = check(value);
  if (problem) throw new UsageError(`${flag} "${value}": ${problem}`);
}
