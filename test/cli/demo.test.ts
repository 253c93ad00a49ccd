import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli } from '../helpers/cli.js';

test('stormtunnel demo runs end to end: sign-in, both tunnels, byte-exact traffic, clean exit', async () => {
  const r = await runCli(['demo'], { timeoutMs: 120_000 });
  assert.is(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /\[4\/6\] Signing in.*\n\s+signed in to "demo", token valid until .*, refreshable: true/,
  );
  assert.match(r.stdout, /web: 127\.0\.0\.1:\d+ -> i-0123456789abcdef0:18080 {2}ready/);
  assert.match(r.stdout, /db: 127\.0\.0\.1:\d+ -> i-0222222222222222a -> 127\.0\.0\.1:18081 {2}ready/);
  assert.match(r.stdout, /-> "hello from the web tier, through Session Manager"/);
  assert.match(r.stdout, /4 MiB through .* sha256 ([0-9a-f]{16}) -> \1 identical/);
  assert.match(r.stdout, /AWS calls the emulator served: .*AssumeRole 1/);
  assert.match(r.stdout, /Demo complete\./);
});

test.run();
