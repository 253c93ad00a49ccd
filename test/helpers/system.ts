// Tests that need a system component (Chromium, Secret Service, notify-send...) use this to decide
// whether to run. Outside CI a missing component skips the test; with CI=true it fails it instead.
import { spawnSync } from 'node:child_process';
import { test as uvuTest, type Test } from 'uvu';

export const inCI = process.env.CI === 'true' || process.env.CI === '1';

export function commandExists(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Returns the suite's `test` when `available`, else its `test.skip` (outside CI) or a test that fails
 * with `why` (in CI), so CI never silently passes without the component.
 */
export function testIf(available: boolean, why: string, suite: Test = uvuTest): Test {
  if (available) return suite;
  if (inCI) {
    const failing = ((name: string) => {
      suite(name, () => {
        throw new Error(`missing system component in CI: ${why}`);
      });
    }) as unknown as Test;
    return Object.assign(failing, suite);
  }
  return suite.skip as unknown as Test;
}
