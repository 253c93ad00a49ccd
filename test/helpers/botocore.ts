// Asks the AWS CLI's own parser (Debian's python3-botocore under /usr/bin/python3) what it reads from AWS
// config and credentials files, for differential tests. One Python process answers a whole batch.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./botocore-view.py', import.meta.url));

/** Environment for Python: UTF-8 whatever the locale (as on users' machines), no AWS settings, no IMDS. */
function pythonEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    PYTHONUTF8: '1',
    PYTHONDONTWRITEBYTECODE: '1',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  return env;
}

/** Why botocore cannot be used here, or undefined when it can. */
export function botocoreMissing(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', 'import botocore'], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) return `${PYTHON} cannot run (${r.error.message}); install python3-botocore`;
  if (r.status !== 0) return `${PYTHON} cannot import botocore; install python3-botocore`;
  return undefined;
}

export interface BotocoreRequest {
  id: string;
  config?: string;
  credentials?: string;
  /** Profiles whose credentials botocore's session should resolve. */
  resolve?: string[];
}

export type BotocoreFileView =
  | { error: string }
  | {
      profiles: Record<string, Record<string, string>>;
      sso_sessions: Record<string, Record<string, string>>;
    };

export type BotocoreResolved =
  { error: string } | { access_key: string; secret_key: string; token: string | null } | null;

export interface BotocoreAnswer {
  config: BotocoreFileView | null;
  credentials: BotocoreFileView | null;
  resolved: Record<string, BotocoreResolved>;
}

/** botocore's view of every request, from one Python process. */
export function botocoreViews(
  requests: BotocoreRequest[],
  home: string,
  timeoutMs = 120_000,
): Promise<Record<string, BotocoreAnswer>> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT], { env: pythonEnv(home), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`botocore did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`botocore runner exited with ${code}: ${err.trim()}`));
      else {
        try {
          resolve(JSON.parse(out) as Record<string, BotocoreAnswer>);
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      }
    });
    child.stdin.end(JSON.stringify(requests));
  });
}
