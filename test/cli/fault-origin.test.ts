// Naming the code behind an error no hook caught, from its stack.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { describeOrigin, faultOrigin, stackFiles } from '../../src/cli/fault-origin.js';

const KNOWN = {
  packageRoot: '/opt/stormtunnel',
  configs: [{ path: '/home/me/proj/stormtunnel.config.ts', shown: 'stormtunnel.config.ts' }],
};
const err = (...frames: string[]) => ({
  stack: ['Error: boom', ...frames.map((f) => `    at ${f}`)].join('\n'),
});

test('stack frames give their files, file: URLs and bundled configs alike', () => {
  assert.equal(
    stackFiles(
      err(
        'Timeout._onTimeout (file:///home/me/proj/stormtunnel.config.ts?bundled=1:12:5)',
        'listOnTimeout (node:internal/timers:581:17)',
        '/opt/stormtunnel/dist/plugins/sso/poll.js:3:9',
        'async file:///x/y.mjs:1:1',
      ).stack,
    ),
    ['/home/me/proj/stormtunnel.config.ts', '/opt/stormtunnel/dist/plugins/sso/poll.js', '/x/y.mjs'],
  );
});

test('a built-in plugin is named, from src or dist, even when our own helpers are above it', () => {
  const origin = faultOrigin(
    err(
      'retry (/opt/stormtunnel/src/engine/recovery.ts:1:1)',
      'tick (/opt/stormtunnel/plugins/sso/poll.ts:3:9)',
    ),
    KNOWN,
  );
  assert.equal(origin, { kind: 'plugin', name: 'sso' });
  assert.is(describeOrigin(origin), 'plugin "sso"');
  assert.equal(faultOrigin(err('x (/opt/stormtunnel/dist/plugins/notify/send.js:1:1)'), KNOWN), {
    kind: 'plugin',
    name: 'notify',
  });
});

test('the config and files beside it (not its packages) are the config code', () => {
  for (const frame of [
    'apply (file:///home/me/proj/stormtunnel.config.ts?bundled=2:3:4)',
    'tick (/home/me/proj/team/plugin.mjs:3:9)',
  ]) {
    assert.equal(faultOrigin(err(frame), KNOWN), { kind: 'config', file: 'stormtunnel.config.ts' }, frame);
  }
  assert.equal(faultOrigin(err('x (/home/me/proj/node_modules/left-pad/index.js:1:1)'), KNOWN), {
    kind: 'unknown',
  });
  assert.is(describeOrigin({ kind: 'unknown' }), 'a plugin or config code');
});

test('only our own code on the stack is an internal error', () => {
  assert.equal(faultOrigin(err('x (/opt/stormtunnel/src/cli/main.ts:1:1)'), KNOWN), { kind: 'internal' });
  assert.equal(faultOrigin({ message: 'no stack' }, KNOWN), { kind: 'unknown' });
});

test.run();
