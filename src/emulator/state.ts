// The emulator's seed state: its schema, the built-in seed that works out of the box, and loading from a
// JSON/YAML file. A loaded file may give only some top-level keys; the others keep the seed's values,
// and `settings` merges field by field.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { formatIssues, schemaKeysAt } from '../config/zod-issues.js';

const accountId = z.string().regex(/^\d{12}$/, 'expected a 12-digit account id');
const actionList = z.array(
  z.string().regex(/^[a-z0-9-]+:[A-Za-z*]+$/, 'expected an action like ssm:StartSession'),
);

const ssoRoleSchema = z.object({
  roleName: z.string().min(1),
  /** Actions this role's credentials are denied (AccessDenied / AccessDeniedException). */
  deny: actionList.default([]),
});

const accountSchema = z.object({
  accountId,
  accountName: z.string().min(1),
  emailAddress: z.string().default('aws@example.com'),
  roles: z.array(ssoRoleSchema).default([]),
});

const userSchema = z.object({
  username: z.string().min(1),
  password: z.string().min(1),
  displayName: z.string().optional(),
});

const iamRoleSchema = z.object({
  arn: z.string().regex(/^arn:aws:iam::\d{12}:role\/.+/, 'expected arn:aws:iam::ACCOUNT:role/NAME'),
  /**
   * Principal ARNs allowed to assume the role (trust policy). `*` is a wildcard inside an ARN;
   * `arn:aws:iam::ACCOUNT:root` trusts every principal of that account.
   */
  trustedPrincipals: z.array(z.string()).default([]),
  externalId: z.string().optional(),
  mfaSerial: z.string().optional(),
  maxSessionDuration: z.number().int().min(3600).max(43200).default(3600),
  deny: actionList.default([]),
});

const iamUserSchema = z.object({
  arn: z.string().regex(/^arn:aws:iam::\d{12}:user\/.+/, 'expected arn:aws:iam::ACCOUNT:user/NAME'),
  accessKeyId: z.string().regex(/^AKIA[A-Z0-9]{12,}$/, 'expected an access key id starting with AKIA'),
  secretAccessKey: z.string().min(16),
  deny: actionList.default([]),
});

const mfaDeviceSchema = z
  .object({
    serial: z.string().min(1),
    /** A fixed valid code... */
    code: z
      .string()
      .regex(/^\d{6}$/, 'expected 6 digits')
      .optional(),
    /** ...or an RFC 6238 TOTP secret (ASCII bytes, SHA-1, 30 s, 6 digits) on the emulator clock. */
    totpSecret: z.string().min(8).optional(),
  })
  .refine((d) => d.code !== undefined || d.totpSecret !== undefined, 'needs code or totpSecret');

const instanceSchema = z.object({
  instanceId: z.string().regex(/^(i|mi)-[0-9a-f]{8,17}$/, 'expected an instance id like i-0123456789abcdef0'),
  name: z.string().default(''),
  accountId: accountId.optional(),
  region: z.string().default('us-east-1'),
  pingStatus: z.enum(['Online', 'ConnectionLost', 'Inactive']).default('Online'),
  agentVersion: z.string().optional(),
  platformName: z.string().default('Amazon Linux'),
  platformVersion: z.string().default('2023'),
  ipAddress: z.string().default('10.0.0.10'),
  /** Where the agent dials for AWS-StartPortForwardingSession ("localhost" on the instance). */
  localAddress: z.string().default('127.0.0.1'),
  /** EC2 state (DescribeInstances `instanceState/name`); only `running` instances are managed nodes. */
  state: z
    .enum(['pending', 'running', 'shutting-down', 'terminated', 'stopping', 'stopped'])
    .default('running'),
  /** EC2 tags besides Name (which is `name`). */
  tags: z.record(z.string(), z.string()).default({}),
  /** ISO time of the last launch; replacements get the emulator clock's time. */
  launchTime: z.string().default('2026-01-05T09:00:00.000Z'),
  /** An Auto Scaling group: tagged `aws:autoscaling:groupName`, replaced by admin `replaceInstance`. */
  autoScalingGroup: z.string().optional(),
  /** A launch in progress: `pending` until this ISO time on the emulator clock, then `running`. */
  onlineAt: z.string().optional(),
});

const ecsContainerSchema = z.object({
  name: z.string().min(1),
  /** The Docker container id; absent until the container started. */
  runtimeId: z.string().optional(),
  lastStatus: z.enum(['PENDING', 'RUNNING', 'STOPPED']).default('RUNNING'),
  /** The ExecuteCommandAgent's lastStatus; `none` when the task has no exec agent. */
  execAgent: z.enum(['PENDING', 'RUNNING', 'STOPPED', 'none']).default('RUNNING'),
  /** Where the in-task agent dials for AWS-StartPortForwardingSession. */
  localAddress: z.string().default('127.0.0.1'),
});

const ecsTaskSchema = z.object({
  cluster: z.string().min(1),
  taskId: z.string().regex(/^[0-9a-f]{32}$/, 'expected a 32-hex task id'),
  /** The service that started the task (`group: service:NAME`); none for a standalone task. */
  service: z.string().optional(),
  accountId: accountId.optional(),
  region: z.string().default('us-east-1'),
  lastStatus: z.enum(['PROVISIONING', 'PENDING', 'RUNNING', 'STOPPED']).default('RUNNING'),
  enableExecuteCommand: z.boolean().default(true),
  launchType: z.enum(['FARGATE', 'EC2']).default('FARGATE'),
  startedAt: z.string().default('2026-01-05T09:00:00.000Z'),
  containers: z.array(ecsContainerSchema).min(1),
});

const databaseSchema = z.object({
  /** DBInstanceIdentifier or DBClusterIdentifier. */
  identifier: z.string().regex(/^[a-zA-Z][a-zA-Z0-9-]{0,62}$/, 'expected a DB identifier like orders-db'),
  kind: z.enum(['instance', 'cluster']).default('instance'),
  engine: z.string().default('postgres'),
  accountId: accountId.optional(),
  region: z.string().default('us-east-1'),
  /** The endpoint's port (Endpoint.Port / Port). */
  port: z.number().int().min(1).max(65535).default(5432),
  status: z.string().default('available'),
  iamAuth: z.boolean().default(true),
  /** Where the endpoint name leads inside the emulated VPC (the agent dials it for ToRemoteHost). */
  localAddress: z.string().default('127.0.0.1'),
});

const settingsShape = {
  accessTokenSeconds: z.number().int().min(1).default(3600),
  refreshTokenSeconds: z
    .number()
    .int()
    .min(1)
    .default(8 * 3600),
  deviceCodeSeconds: z.number().int().min(1).default(600),
  pollIntervalSeconds: z.number().int().min(0).default(1),
  roleCredentialSeconds: z.number().int().min(1).default(3600),
  clientRegistrationSeconds: z
    .number()
    .int()
    .min(1)
    .default(90 * 86400),
  authorizationCodeSeconds: z.number().int().min(1).default(300),
  /** Version the agent reports; > 3.0.196.0 is mux-capable. '3.0.161.0' gives basic mode. */
  agentVersion: z
    .string()
    .regex(/^\d+\.\d+\.\d+\.\d+$/, 'expected a four-part version')
    .default('3.3.1957.0'),
};
const settingsSchema = z.object(settingsShape);

const ssoSchema = z.object({
  region: z.string().default('us-east-1'),
  /** Extra start URLs accepted by StartDeviceAuthorization besides `<emulator>/start`. */
  startUrlAliases: z.array(z.string()).default([]),
  scopes: z.array(z.string()).default(['sso:account:access']),
});

export const emulatorStateSchema = z.object({
  sso: ssoSchema,
  users: z.array(userSchema).min(1),
  accounts: z.array(accountSchema).min(1),
  iamRoles: z.array(iamRoleSchema),
  iamUsers: z.array(iamUserSchema),
  mfaDevices: z.array(mfaDeviceSchema),
  instances: z.array(instanceSchema),
  ecsTasks: z.array(ecsTaskSchema).default([]),
  databases: z.array(databaseSchema).default([]),
  settings: settingsSchema,
});

export type EmulatorState = z.infer<typeof emulatorStateSchema>;
export type EmulatorSettings = EmulatorState['settings'];
export type EmulatorStateInput = { [K in keyof EmulatorState]?: unknown };

/** Seed user. Sign in on the pages with these. */
export const SEED_USERNAME = 'dev';
export const SEED_PASSWORD = 'stormtunnel';
/** Static IAM user key pair, for `[default]` static-key profiles. */
export const SEED_STATIC_ACCESS_KEY_ID = 'AKIAEMULATORSTATIC01';
export const SEED_STATIC_SECRET_ACCESS_KEY = 'emulator/static/SECRET/key/0000000000000';
/** MFA device of the static user; the valid code is fixed. */
export const SEED_MFA_SERIAL = 'arn:aws:iam::111111111111:mfa/ci';
export const SEED_MFA_CODE = '123456';

export function seedState(): EmulatorState {
  const raw = {
    sso: { region: 'us-east-1', startUrlAliases: [], scopes: ['sso:account:access'] },
    users: [{ username: SEED_USERNAME, password: SEED_PASSWORD, displayName: 'Dev Eloper' }],
    accounts: [
      {
        accountId: '111111111111',
        accountName: 'sandbox',
        emailAddress: 'sandbox@example.com',
        roles: [
          { roleName: 'AdministratorAccess', deny: [] },
          { roleName: 'ReadOnly', deny: ['ssm:StartSession', 'sts:AssumeRole'] },
        ],
      },
      {
        accountId: '222222222222',
        accountName: 'production',
        emailAddress: 'production@example.com',
        roles: [
          { roleName: 'Developer', deny: [] },
          { roleName: 'ReadOnly', deny: ['ssm:StartSession'] },
          { roleName: 'Billing', deny: ['ssm:StartSession', 'sts:AssumeRole'] },
        ],
      },
    ],
    iamRoles: [
      {
        arn: 'arn:aws:iam::222222222222:role/Deploy',
        trustedPrincipals: [
          'arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_*',
          'arn:aws:iam::111111111111:user/ci',
        ],
        maxSessionDuration: 3600,
        deny: [],
      },
      {
        arn: 'arn:aws:iam::222222222222:role/Partner',
        trustedPrincipals: ['arn:aws:iam::111111111111:root'],
        externalId: 'stormtunnel-external-id',
        maxSessionDuration: 7200,
        deny: [],
      },
      {
        arn: 'arn:aws:iam::222222222222:role/BreakGlass',
        trustedPrincipals: ['arn:aws:iam::111111111111:user/ci'],
        mfaSerial: SEED_MFA_SERIAL,
        maxSessionDuration: 43200,
        deny: [],
      },
      {
        // Second hop of a chain: only Deploy may assume it.
        arn: 'arn:aws:iam::222222222222:role/Ops',
        trustedPrincipals: ['arn:aws:iam::222222222222:role/Deploy'],
        maxSessionDuration: 3600,
        deny: ['ssm:StartSession'],
      },
    ],
    iamUsers: [
      {
        arn: 'arn:aws:iam::111111111111:user/ci',
        accessKeyId: SEED_STATIC_ACCESS_KEY_ID,
        secretAccessKey: SEED_STATIC_SECRET_ACCESS_KEY,
        deny: [],
      },
    ],
    mfaDevices: [{ serial: SEED_MFA_SERIAL, code: SEED_MFA_CODE }],
    instances: [
      { instanceId: 'i-0123456789abcdef0', name: 'bastion', accountId: '111111111111', region: 'us-east-1' },
      { instanceId: 'i-0fedcba9876543210', name: 'db-proxy', accountId: '111111111111', region: 'us-east-1' },
      { instanceId: 'i-0aaaabbbbccccdddd', name: 'west-app', accountId: '111111111111', region: 'us-west-2' },
      {
        instanceId: 'i-0deadbeefdeadbeef',
        name: 'offline-box',
        accountId: '111111111111',
        region: 'us-east-1',
        pingStatus: 'ConnectionLost',
      },
      {
        instanceId: 'i-0222222222222222a',
        name: 'prod-bastion',
        accountId: '222222222222',
        region: 'us-east-1',
      },
    ],
    ecsTasks: [
      {
        cluster: 'apps',
        taskId: '0a1b2c3d4e5f60718293a4b5c6d7e8f9',
        service: 'api',
        accountId: '111111111111',
        region: 'us-east-1',
        containers: [{ name: 'app', runtimeId: '0a1b2c3d4e5f60718293a4b5c6d7e8f9-1234567890' }],
      },
    ],
    databases: [
      { identifier: 'orders', accountId: '111111111111', region: 'us-east-1', port: 5432 },
      {
        identifier: 'orders-aurora',
        kind: 'cluster',
        engine: 'aurora-postgresql',
        accountId: '111111111111',
        region: 'us-east-1',
        port: 5432,
      },
    ],
    settings: {},
  };
  return emulatorStateSchema.parse(raw);
}

export class EmulatorStateError extends Error {
  override name = 'EmulatorStateError';
}

function describeIssues(source: string, error: z.ZodError): string {
  return formatIssues(error.issues.slice(0, 10), {
    knownKeys: (level) => schemaKeysAt(emulatorStateSchema, level),
    noun: 'key',
    whole: '(root)',
  })
    .map((line) => `${source}: ${line}`)
    .join('\n');
}

/** Validates a (partial) state against the schema, filling missing top-level keys from the seed. */
export function resolveEmulatorState(input: unknown, source = 'state'): EmulatorState {
  if (input === undefined || input === null) return seedState();
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new EmulatorStateError(`${source}: (root): expected an object`);
  }
  const seed = seedState();
  const given = input as Record<string, unknown>;
  const known = new Set(Object.keys(seed));
  for (const k of Object.keys(given)) {
    if (!known.has(k))
      throw new EmulatorStateError(`${source}: ${k}: unknown key (known: ${[...known].join(', ')})`);
  }
  const merged: Record<string, unknown> = { ...seed };
  for (const [k, v] of Object.entries(given)) {
    if (v === undefined) continue;
    merged[k] = k === 'settings' && v && typeof v === 'object' ? { ...seed.settings, ...v } : v;
  }
  const parsed = emulatorStateSchema.safeParse(merged);
  if (!parsed.success) throw new EmulatorStateError(describeIssues(source, parsed.error));
  checkReferences(parsed.data, source);
  return parsed.data;
}

function checkReferences(s: EmulatorState, source: string): void {
  const accounts = new Set(s.accounts.map((a) => a.accountId));
  s.instances.forEach((inst, i) => {
    if (inst.accountId && !accounts.has(inst.accountId)) {
      throw new EmulatorStateError(`${source}: instances[${i}].accountId: unknown account ${inst.accountId}`);
    }
  });
  for (const [key, list] of [
    ['ecsTasks', s.ecsTasks],
    ['databases', s.databases],
  ] as const) {
    list.forEach((item, i) => {
      if (item.accountId && !accounts.has(item.accountId)) {
        throw new EmulatorStateError(`${source}: ${key}[${i}].accountId: unknown account ${item.accountId}`);
      }
    });
  }
  const serials = new Set(s.mfaDevices.map((d) => d.serial));
  s.iamRoles.forEach((r, i) => {
    if (r.mfaSerial && !serials.has(r.mfaSerial)) {
      throw new EmulatorStateError(
        `${source}: iamRoles[${i}].mfaSerial: no mfaDevices entry for ${r.mfaSerial}`,
      );
    }
  });
}

/** Reads a JSON or YAML state file; errors name the file and the offending key. */
export async function loadEmulatorState(file: string): Promise<EmulatorState> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new EmulatorStateError(`${file}: cannot read: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new EmulatorStateError(
      `${file}: not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`,
    );
  }
  return resolveEmulatorState(data ?? {}, file);
}
