import { homedir } from 'node:os';
import { sep } from 'node:path';

export interface AwsConfigErrorInit {
  file: string;
  line?: number;
  key?: string;
  profile?: string;
  /** What is wrong and how to fix it, without the file/line prefix. Never include secret values. */
  detail: string;
  home?: string;
  cause?: unknown;
}

/** Bad input in an AWS file (config, credentials, token cache). The CLI prints `message` and exits 2. */
export class AwsConfigError extends Error {
  override readonly name = 'AwsConfigError';
  /** Bad input in the user's files: the CLI exits 2. */
  readonly exitCode = 2;
  readonly file: string;
  readonly line: number | undefined;
  readonly key: string | undefined;
  readonly profile: string | undefined;
  readonly detail: string;

  constructor(init: AwsConfigErrorInit) {
    const where = displayPath(init.file, init.home) + (init.line !== undefined ? ` line ${init.line}` : '');
    super(`${where}: ${oneLine(init.detail)}`, init.cause !== undefined ? { cause: init.cause } : undefined);
    this.file = init.file;
    this.line = init.line;
    this.key = init.key;
    this.profile = init.profile;
    this.detail = oneLine(init.detail);
  }
}

/** Another process held a cache lock for longer than we were willing to wait. */
export class LockTimeoutError extends Error {
  override readonly name = 'LockTimeoutError';
  constructor(
    readonly lockFile: string,
    message: string,
  ) {
    super(oneLine(message));
  }
}

/** `~/.aws/config` instead of `/home/me/.aws/config`, as users know these files. */
export function displayPath(file: string, home: string = process.env.HOME || homedir()): string {
  if (home && (file === home || file.startsWith(home.endsWith(sep) ? home : home + sep))) {
    return '~' + file.slice(home.endsWith(sep) ? home.length - 1 : home.length);
  }
  return file;
}

function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/**
 * A value from the user's files or environment as echoed in a message: one line, at most `max` characters,
 * with its full length when cut (a 2 MB region must not become a 2 MB warning). Never pass secrets here.
 */
export function shortValue(value: string, max = 60): string {
  const flat = value.replace(/[\r\n\t\v\f\u2028\u2029]+/g, ' ');
  const chars = [...flat];
  if (chars.length <= max) return flat;
  return `${chars.slice(0, max - 1).join('')}… (${chars.length} characters)`;
}
