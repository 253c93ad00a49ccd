// Credentials that need no AWS call: static/temporary keys and credential_process. SSO, assume-role and web
// identity profiles need STS/SSO calls and are resolved by the auth engine, not here.
import { oneLine } from '../text/shorten.js';
import { runBounded } from './bounded-process.js';
import { AwsConfigError } from './errors.js';
import { classifyProfile, getProfile, originOf } from './profiles.js';
import type { Env, SharedConfig } from './types.js';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
  accountId?: string;
  credentialScope?: string;
}

/** POSIX shell-style word splitting (like Python's shlex.split, which the AWS CLI uses); no expansion. */
export function splitCommandLine(cmd: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < cmd.length; i++) {
    const ch = cmd[i] as string;
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else word += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = undefined;
      else if (ch === '\\' && i + 1 < cmd.length && '"\\$`\n'.includes(cmd[i + 1] as string))
        word += cmd[++i];
      else word += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < cmd.length) {
      word += cmd[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote) throw new Error('unterminated quote');
  if (inWord) words.push(word);
  return words;
}

/** Credentials JSON is well under a kilobyte; more than this is a command printing something else. */
export const MAX_STDOUT_BYTES = 1024 * 1024;

/** The end of a command's stderr for an error message: its last 3 lines, each shortened. Never stdout. */
function lastLines(stderr: string): string {
  return stderr
    .trim()
    .split(/\r?\n/)
    .filter((l) => l.trim())
    .slice(-3)
    .map((l) => oneLine(l, 160))
    .join(' | ');
}

export interface ProcessOptions {
  env?: Env;
  cwd?: string;
  timeoutMs?: number;
}

/**
 * Runs `credential_process` without a shell and validates its output (Version 1, AccessKeyId,
 * SecretAccessKey, optional SessionToken, Expiration, AccountId). Never echoes stdout: it holds secrets.
 */
export async function runCredentialProcess(
  command: string,
  where: { file: string; line?: number; profile: string; home?: string },
  options: ProcessOptions = {},
): Promise<AwsCredentials> {
  const fail = (detail: string) =>
    new AwsConfigError({
      ...where,
      key: 'credential_process',
      detail: `profile "${where.profile}" credential_process ${detail}`,
    });
  let argv: string[];
  try {
    argv = splitCommandLine(command);
  } catch {
    throw fail('has an unterminated quote; check the quoting');
  }
  const [file, ...args] = argv;
  if (!file) throw fail('is empty; set it to a command that prints credentials as JSON');
  const timeoutMs = options.timeoutMs ?? 60_000;
  const run = await runBounded(file, args, {
    env: { ...(options.env ?? process.env) },
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    timeoutMs,
    maxStdoutBytes: MAX_STDOUT_BYTES,
  });
  const seconds = `${Math.round(timeoutMs / 100) / 10} s`;
  const stderrEnd = 'stderr' in run ? lastLines(run.stderr) : '';
  switch (run.outcome) {
    case 'could-not-start':
      throw fail(
        `could not start "${oneLine(file, 80)}" (${run.reason}); check the command and that it is on PATH and executable`,
      );
    case 'timed-out':
      throw fail(
        run.exited
          ? `exited, but a process it started kept its output open for ${seconds}; it was stopped. Redirect a background process's output (> /dev/null 2>&1 &)`
          : `timed out after ${seconds} and was stopped with everything it started${stderrEnd ? ` (its stderr ends: ${stderrEnd})` : ''}; check that it does not wait for input or a slow network (the limit is the profile-credentials plugin's processTimeout)`,
      );
    case 'too-much-output':
      throw fail(
        `printed more than ${MAX_STDOUT_BYTES / 1024 / 1024} MiB and was stopped; it must print only the credentials JSON`,
      );
    case 'exited':
      break;
  }
  const { stdout, code, signal } = run;
  if (code !== 0) {
    throw fail(
      `${code === null ? `was killed by ${signal ?? 'a signal'}` : `exited with code ${code}`}${stderrEnd ? `: ${stderrEnd}` : ''}`,
    );
  }
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(stdout.trim()) as Record<string, unknown>;
  } catch {
    throw fail('printed something that is not JSON; it must print {"Version": 1, "AccessKeyId": ..., ...}');
  }
  if (data === null || typeof data !== 'object') throw fail('printed JSON that is not an object');
  if (data.Version !== 1) throw fail('did not print "Version": 1');
  if (typeof data.AccessKeyId !== 'string' || typeof data.SecretAccessKey !== 'string') {
    throw fail('did not print AccessKeyId and SecretAccessKey');
  }
  const creds: AwsCredentials = { accessKeyId: data.AccessKeyId, secretAccessKey: data.SecretAccessKey };
  if (typeof data.SessionToken === 'string' && data.SessionToken) creds.sessionToken = data.SessionToken;
  if (data.Expiration !== undefined && data.Expiration !== null && data.Expiration !== '') {
    const exp =
      typeof data.Expiration === 'string' || typeof data.Expiration === 'number'
        ? new Date(data.Expiration)
        : new Date(NaN);
    if (Number.isNaN(exp.getTime())) throw fail('printed an Expiration that is not an ISO 8601 date');
    if (exp.getTime() < Date.now()) throw fail('printed credentials that have already expired');
    creds.expiration = exp;
  }
  if (typeof data.AccountId === 'string' && data.AccountId) creds.accountId = data.AccountId;
  if (typeof data.CredentialScope === 'string' && data.CredentialScope)
    creds.credentialScope = data.CredentialScope;
  return creds;
}

/** Credentials for a static, temporary or credential-process profile. */
export async function resolveLocalCredentials(
  config: SharedConfig,
  name: string,
  options: ProcessOptions = {},
): Promise<AwsCredentials> {
  const t = classifyProfile(name, config);
  const p = getProfile(config, name);
  const v = p.values;
  if (t.type === 'static' || t.type === 'temporary') {
    const creds: AwsCredentials = {
      accessKeyId: v.aws_access_key_id as string,
      secretAccessKey: v.aws_secret_access_key as string,
    };
    if (v.aws_session_token !== undefined) creds.sessionToken = v.aws_session_token;
    if (v.aws_credential_scope !== undefined) creds.credentialScope = v.aws_credential_scope;
    if (v.aws_account_id !== undefined) creds.accountId = v.aws_account_id;
    return creds;
  }
  if (t.type === 'credential-process') {
    const o = originOf(p, 'credential_process');
    const creds = await runCredentialProcess(
      t.command,
      {
        file: o?.file ?? config.configFile.path,
        ...(o ? { line: o.line } : {}),
        profile: name,
        home: config.home,
      },
      { env: options.env ?? config.env, ...options },
    );
    if (creds.accountId === undefined && v.aws_account_id !== undefined) creds.accountId = v.aws_account_id;
    return creds;
  }
  throw new Error(
    `profile "${name}" is ${t.type}; its credentials need an AWS call and are not resolved locally`,
  );
}
