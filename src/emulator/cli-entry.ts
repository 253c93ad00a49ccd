// `stormtunnel emulator [--port N] [--state FILE] [--auto-approve] [--no-pacing] [--print-env]`:
// starts the emulator, prints its URL on the first line, optionally the environment to export, and
// resolves once SIGINT/SIGTERM (or the given AbortSignal) has closed it.
import { startEmulator } from './server.js';
import { loadEmulatorState } from './state.js';
import type { RunningEmulator } from './types.js';

export interface EmulatorCommandOptions {
  port?: number | string;
  state?: string;
  autoApprove?: boolean;
  /** Agent pacing like the real one (default true). */
  pacing?: boolean;
  printEnv?: boolean;
  /** Stops the emulator like a signal would (for embedding and tests). */
  signal?: AbortSignal;
  /** Called once the emulator is listening. */
  onReady?: (emulator: RunningEmulator) => void;
}

export interface EmulatorCommandIo {
  stdout: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

function shellQuote(v: string): string {
  return /^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
}

function parsePort(p: number | string | undefined): number {
  if (p === undefined) return 0;
  const n = typeof p === 'number' ? p : Number(p);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port must be 0-65535, got ${String(p)}`);
  return n;
}

export async function runEmulatorCommand(opts: EmulatorCommandOptions, io: EmulatorCommandIo): Promise<void> {
  const port = parsePort(opts.port);
  const state = opts.state ? await loadEmulatorState(opts.state) : undefined;
  const emulator = await startEmulator({
    port,
    ...(state ? { state } : {}),
    autoApprove: !!opts.autoApprove,
    pacing: opts.pacing !== false,
    ...(io.stderr ? { logger: (line: string) => io.stderr?.write(`${line}\n`) } : {}),
  });
  let out = `stormtunnel emulator listening on ${emulator.url}\n`;
  if (opts.printEnv) {
    for (const [k, v] of Object.entries(emulator.env())) out += `export ${k}=${shellQuote(v)}\n`;
  }
  io.stdout.write(out);
  opts.onReady?.(emulator);

  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      opts.signal?.removeEventListener('abort', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (opts.signal?.aborted) stop();
    else opts.signal?.addEventListener('abort', stop, { once: true });
  });
  await emulator.close();
}
