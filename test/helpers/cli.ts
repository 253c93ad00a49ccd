// Runs the real `stormtunnel` binary in a child process, with a bounded time: the package as published
// (dist/, which `npm test` transpiles first) or, outside the runner or with STORMTUNNEL_TEST_CLI=source,
// the TypeScript sources through tsx.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/stormtunnel.js', import.meta.url));

const FROM_DIST = process.env.STORMTUNNEL_TEST_CLI === 'dist';

/** What a child process running BIN needs in its environment to run the code under test. */
export const CLI_ENV: Readonly<Record<string, string>> = { STORMTUNNEL_FROM_SOURCE: FROM_DIST ? '0' : '1' };

/**
 * The file a test config imports for one of stormtunnel's modules (`plugins/sso/index.ts`): the one the CLI
 * under test runs, so the config and the CLI share one copy of the engine and its plugins.
 */
export function stormtunnelModule(path: string): string {
  return FROM_DIST ? join(REPO_ROOT, 'dist', path.replace(/\.ts$/, '.js')) : join(REPO_ROOT, path);
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? REPO_ROOT,
      env: { ...process.env, NO_COLOR: '1', ...CLI_ENV, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `stormtunnel ${args.join(' ')} did not finish in ${opts.timeoutMs ?? 60_000} ms\n${stderr}`,
        ),
      );
    }, opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}
