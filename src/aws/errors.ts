import { homedir } from 'node:os';
import { sep } from 'node:path';
import { oneLine } from '../text/shorten.js';

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
    super(
      `${where}: ${oneLine(init.detail, Infinity)}`,
      init.cause !== undefined ? { cause: init.cause } : undefined,
    );
    this.file = init.file;
    this.line = init.line;
    this.key = init.key;
    this.profile = init.profile;
    this.detail = oneLine(init.detail, Infinity);
  }
}

/** Another process held a cache lock for longer than we were willing to wait. */
export class LockTimeoutError extends Error {
  override readonly name = 'LockTimeoutError';
  constructor(
    readonly lockFile: string,
    message: string,
  ) {
    super(oneLine(message, Infinity));
  }
}

/** `~/.aws/config` instead of `/home/me/.aws/config`, as users know these files. */
export function displayPath(file: string, home: string = process.env.HOME || homedir()): string {
  if (home && (file === home || file.startsWith(home.endsWith(sep) ? home : home + sep))) {
    return '~' + file.slice(home.endsWith(sep) ? home.length - 1 : home.length);
  }
  return file;
}
