// What the CLI's last-resort error handler needs to know about config code that ran, without importing
// the config loader (and zod with it) into every start of the CLI.

const configCode: { path: string; shown: string }[] = [];

/** Notes that a JS/TS config file's code runs in this process. */
export function rememberConfigCode(path: string, shown: string): void {
  if (!configCode.some((c) => c.path === path)) configCode.push({ path, shown });
}

/** JS/TS config files whose code ran in this process: to name the code behind an error no hook caught. */
export function loadedConfigCode(): readonly { path: string; shown: string }[] {
  return configCode;
}

const exitAttempts = new WeakSet<object>();

/** Marks what the config loader's process.exit stand-in threw: the load that was running reports it. */
export function markConfigExitAttempt(err: object): void {
  exitAttempts.add(err);
}

export function isConfigExitAttempt(err: unknown): boolean {
  return typeof err === 'object' && err !== null && exitAttempts.has(err);
}
