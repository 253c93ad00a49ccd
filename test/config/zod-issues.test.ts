// Config keys and plugin options are reported by one formatter: the same path style and "did you mean".
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import { retry } from '../../plugins/retry/index.js';
import { validateConfig } from '../../src/config/validate.js';
import { parsePluginOptions } from '../../src/engine/plugin.js';

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a failure');
}

test('a misspelt plugin option gets "did you mean", like a misspelt config key', () => {
  assert.is(
    messageOf(() => retry({ maxAttempt: 3 } as never)),
    'plugin "retry" options: maxAttempt: unknown option (did you mean "maxAttempts"?)',
  );
  assert.is(
    messageOf(() => validateConfig({ settings: { retry: { maxAttempt: 3 } } }, 'c.json', () => [])),
    'c.json: settings.retry.maxAttempt: unknown setting (did you mean "maxAttempts"?)',
  );
});

test('nested option paths use the config’s style (list items in brackets), and unknown keys list what is known', () => {
  const schema = z.strictObject({
    hosts: z.array(z.strictObject({ name: z.string(), port: z.optional(z.number()) })),
  });
  assert.is(
    messageOf(() => parsePluginOptions('team', schema, { hosts: [{ name: 'a' }, { name: 'b', colour: 1 }] })),
    'plugin "team" options: hosts[1].colour: unknown option; known: name, port',
  );
  assert.is(
    messageOf(() => parsePluginOptions('team', schema, { hosts: [{ name: 7 }] })),
    'plugin "team" options: hosts[0].name: Invalid input: expected string, received number',
  );
});

test.run();
