// An empty HOME (no ~/.aws at all) with a project folder whose stormtunnel.config.ts loads the sso plugin,
// pointed at a running emulator. Also a pseudo-terminal driver (util-linux `script`) for the wizard.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, CLI_ENV, stormtunnelModule } from '../helpers/cli.js';

export interface EmptyHome {
  home: string;
  project: string;
  configFile: string;
  stormtunnelConfig: string;
  env: Record<string, string>;
  cleanup(): void;
}

/** The config a team would have: the built-in plugins plus sso (until sso is one of the built-ins). */
export function projectConfig(): string {
  const builtins = JSON.stringify(stormtunnelModule('src/builtin-plugins.ts'));
  const sso = JSON.stringify(stormtunnelModule('plugins/sso/index.ts'));
  return `import { builtinPlugins } from ${builtins};
import { sso } from ${sso};

const builtins = builtinPlugins();
export default {
  plugins: builtins.some((p) => p.name === 'sso') ? builtins : [sso(), ...builtins],
  // Tokens stay in this HOME's AWS CLI cache: the test runner's keyring is shared by concurrent test files.
  settings: { keychain: false, notifications: false },
  // tunnels started by \`stormtunnel up\`
  tunnels: [],
};
`;
}

export function makeEmptyHome(emulatorEnv: Record<string, string>): EmptyHome {
  const home = mkdtempSync(join(tmpdir(), 'stormtunnel-configure-home-'));
  const project = join(home, 'project');
  mkdirSync(project);
  const stormtunnelConfig = join(project, 'stormtunnel.config.ts');
  writeFileSync(stormtunnelConfig, projectConfig());
  const configFile = join(home, '.aws', 'config');
  const env: Record<string, string> = {
    ...emulatorEnv,
    HOME: home,
    AWS_CONFIG_FILE: configFile,
    AWS_SHARED_CREDENTIALS_FILE: join(home, '.aws', 'credentials'),
    AWS_PROFILE: '',
    AWS_ACCESS_KEY_ID: '',
    AWS_SECRET_ACCESS_KEY: '',
    AWS_SESSION_TOKEN: '',
    NODE_NO_WARNINGS: '1',
  };
  return {
    home,
    project,
    configFile,
    stormtunnelConfig,
    env,
    cleanup: () => rmSync(home, { recursive: true, force: true }),
  };
}

/** Sets process.env for SDK calls made by the test process itself; returns the undo. */
export function useEnv(env: Record<string, string>): () => void {
  const saved = new Map<string, string | undefined>();
  for (const [k, v] of Object.entries(env)) {
    saved.set(k, process.env[k]);
    if (v === '') delete process.env[k];
    else process.env[k] = v;
  }
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

export function stripAnsi(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
}

export interface Pty {
  /** Everything the program wrote, without escape sequences. */
  readonly text: () => string;
  /** Resolves once `re` matches output after the previous match (bounded). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
  send(keys: string): void;
  /** Exit code of the program. */
  exited: Promise<number | null>;
  kill(): void;
}

/** Runs `stormtunnel ARGS` in a pseudo-terminal through util-linux `script`. */
export function runInPty(args: string[], opts: { cwd: string; env: Record<string, string> }): Pty {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, BIN, ...args].map(quote).join(' ');
  const child: ChildProcessWithoutNullStreams = spawn(
    'script',
    ['-qefc', `stty cols 120 rows 40; exec ${command}`, '/dev/null'],
    {
      cwd: opts.cwd,
      env: {
        ...process.env,
        NO_COLOR: '1',
        ...CLI_ENV,
        TERM: 'xterm-256color',
        ...opts.env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let raw = '';
  let mark = 0;
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    raw += d.toString();
    for (const l of listeners) l();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    text: () => stripAnsi(raw),
    waitFor(re, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const fresh = stripAnsi(raw).slice(mark);
          const m = re.exec(fresh);
          if (!m) return;
          mark += m.index + m[0].length;
          listeners.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for ${re}; output so far:\n${stripAnsi(raw)}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
    send(keys) {
      child.stdin.write(keys);
    },
    exited,
    kill() {
      child.kill('SIGKILL');
    },
  };
}
