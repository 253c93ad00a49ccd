// Config load failures through the real CLI: one line, the same from every command, exit 2 for the
// config's mistakes and 1 for a plugin's asynchronous throw; no stack unless --verbose; nothing left in
// TMPDIR; and the CLI ends even when the config's code would keep it running.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli, type CliResult } from '../helpers/cli.js';

const test = suite('config load failures through the CLI');
const base = mkdtempSync(join(tmpdir(), 'stormtunnel-load-cli-'));
test.after(() => rmSync(base, { recursive: true, force: true }));

let n = 0;
/** A project folder with `files`, its own HOME (no AWS config) and its own TMPDIR. */
function project(files: Record<string, string>) {
  const dir = join(base, `p${++n}`);
  const home = join(dir, 'home');
  const tmp = join(dir, 'tmp');
  mkdirSync(home, { recursive: true });
  mkdirSync(tmp);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const run = (args: string[]): Promise<CliResult> =>
    runCli(args, { cwd: dir, env: { HOME: home, TMPDIR: tmp, AWS_PROFILE: '' } });
  return { dir, tmp, run };
}

test('a JSON syntax error: the same line with its position from up, check, status and plugins', async () => {
  const p = project({ 'stormtunnel.config.json': '{\n  "tunnels": [\n    { "name": "db", }\n  ]\n}\n' });
  const expected = "stormtunnel: stormtunnel.config.json:3:19: a trailing comma before '}'; fix the syntax\n";
  for (const args of [['up'], ['check'], ['status'], ['plugins']]) {
    const r = await p.run(args);
    assert.is(r.stderr, expected, args.join(' '));
    assert.is(r.code, 2, args.join(' '));
  }
});

test('a TS config that calls process.exit(0): a config error, exit 2, nothing left in TMPDIR', async () => {
  const p = project({
    'stormtunnel.config.ts': 'process.exit(0);\nexport default { tunnels: [] as string[] };\n',
  });
  const r = await p.run(['plugins']);
  assert.is(
    r.stderr,
    'stormtunnel: stormtunnel.config.ts: its code called process.exit(0) while the config loaded; a config must export its settings, not end the process\n',
  );
  assert.is(r.code, 2);
  // (tsx, which runs the sources in these tests, keeps its own cache there.)
  assert.equal(
    readdirSync(p.tmp).filter((f) => f.startsWith('stormtunnel')),
    [],
  );
});

test('process.exit from a timer while the config loads: the same error, once', async () => {
  const p = project({
    'stormtunnel.config.mjs': 'export default new Promise(() => setTimeout(() => process.exit(0), 20));\n',
  });
  const r = await p.run(['status']);
  assert.is(
    r.stderr,
    'stormtunnel: stormtunnel.config.mjs: its code called process.exit(0) while the config loaded; a config must export its settings, not end the process\n',
  );
  assert.is(r.code, 2);
});

test('a config promise that never settles is named after 10 s, and the CLI ends despite its timer', async () => {
  const p = project({
    'stormtunnel.config.mjs': 'export default new Promise(() => setInterval(() => {}, 1000));\n',
  });
  // The guard is far above the 10 s bound; before, the interval kept the CLI running for ever.
  const r = await p.run(['plugins']);
  assert.is(
    r.stderr,
    'stormtunnel: stormtunnel.config.mjs: the exported promise did not settle within 10 s; check what it waits for (a network call, a prompt, a timer) or export the config object itself\n',
  );
  assert.is(r.code, 2);
});

const THROWS = {
  'a timer': 'setTimeout(() => { throw new Error("boom in ticker"); }, 0);',
  'a promise nobody awaits': 'Promise.reject(new Error("boom in ticker"));',
};
for (const [how, code] of Object.entries(THROWS)) {
  test(`a plugin that throws from ${how}: one line naming the config's code, exit 1, stack only with --verbose`, async () => {
    const p = project({
      'stormtunnel.config.mjs': `export default { plugins: [{ name: 'ticker', apply() { ${code} } }] };\n`,
    });
    const r = await p.run(['plugins']);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('stormtunnel: '));
    assert.equal(
      lines,
      [
        'stormtunnel: code loaded by stormtunnel.config.mjs (a plugin or the config) failed outside any hook: boom in ticker',
      ],
      r.stderr,
    );
    assert.not.match(r.stderr, /^\s+at /m);
    assert.is(r.code, 1);
    const verbose = await p.run(['plugins', '--verbose']);
    assert.is(verbose.code, 1);
    // (redactString may hide part of a long temporary path; the frame and its file name stay.)
    assert.ok(/^\s+at .*config\.mjs:1:\d+/m.test(verbose.stderr), verbose.stderr);
  });
}

test.run();
