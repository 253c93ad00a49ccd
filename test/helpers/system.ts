// Tests that need a system component (Chromium, Secret Service, notify-send...) use this to decide
// whether to run. Outside CI a missing component skips the test; with CI=true it fails it instead.
import { spawnSync } from 'node:child_process';
import type { Test } from 'uvu';

export const inCI = process.env.CI === 'true' || process.env.CI === '1';

export function commandExists(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

type Body = () => void | Promise<void>;

/**
 * Registers `body` on `suite` when `available`; otherwise skips it (outside CI) or registers a test
 * that fails with `why` (CI=true), so CI never passes silently without the component.
 */
export function testIf(suite: Test, available: boolean, why: string): (name: string, body: Body) => void {
  return (name, body) => {
    if (available) suite(name, body);
    else if (inCI)
      suite(name, () => {
        throw new Error(`missing system component in CI: ${why}`);
      });
    else suite.skip(name, body);
  };
}
