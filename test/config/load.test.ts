import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../../src/config/load.js';
import { DEFAULT_SETTINGS } from '../../src/config/defaults.js';
import { createEngine } from '../../src/engine/engine.js';
import { ConfigError } from '../../src/engine/errors.js';
import { captureLogger } from '../helpers/logger.js';
import { REPO_ROOT, runCli } from '../helpers/cli.js';

const SRC = join(REPO_ROOT, 'src');
const dirs: string[] = [];
function project(files: Record<string, string>, base = join(REPO_ROOT, '.tmp')): string {
  mkdirSync(base, { recursive: true });
  // Inside the repo so that the configs can import the project's dependencies (zod), as a team's would.
  const dir = mkdtempSync(join(base, 'config-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const TUNNEL = `{ name: 'db', target: 'i-0123456789abcdef0', remotePort: 5432, localPort: 15432 }`;

const load = suite('loading');

const cleanup = () => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
};
load.after(cleanup);

load('a team plugin in a sibling .ts file loads from stormtunnel.config.ts and its hooks run', async () => {
  const dir = project({
    'team/audit.ts': `
      import type { StormtunnelPlugin } from '${SRC}/engine/plugin.ts';
      import { parsePluginOptions } from '${SRC}/engine/plugin.ts';
      import { z } from 'zod';
      const schema = z.strictObject({ allowed: z.array(z.string()) });
      export function teamGuard(options: z.input<typeof schema>): StormtunnelPlugin {
        const opts = parsePluginOptions('team-guard', schema, options);
        return {
          name: 'team-guard',
          apply(api) {
            api.hooks.beforeConnect.tap((draft) =>
              opts.allowed.includes(draft.tunnel) ? undefined : { veto: true, reason: draft.tunnel + ' is not on the team list' });
            api.hooks.resolveCredentials.tap(() => ({ accessKeyId: 'AKIATEAM', secretAccessKey: 'x', source: 'team' }));
          },
        };
      }
    `,
    'stormtunnel.config.ts': `
      import { defineConfig } from '${SRC}/config/define-config.ts';
      import { teamGuard } from './team/audit.js';
      const enabled = false;
      export default defineConfig({
        plugins: [[teamGuard({ allowed: ['db'] })], enabled && teamGuard({ allowed: [] }), null],
        tunnels: [${TUNNEL}, { name: 'cache', target: 'i-0123456789abcdef0', remotePort: 6379, localPort: 0, autostart: false, maxSessions: 1 }],
        settings: { earlyRefreshThreshold: '10m', retry: { maxAttempts: 3 }, maxSessions: 8 },
      });
    `,
  });
  const config = await loadConfig({ cwd: dir });
  assert.is(config.file, 'stormtunnel.config.ts');
  assert.equal(
    config.plugins.map((p) => p.name),
    ['team-guard'],
  );
  assert.is(config.tunnels.length, 2);
  assert.equal(config.tunnels[0], {
    name: 'db',
    profile: undefined,
    region: undefined,
    target: 'i-0123456789abcdef0',
    remotePort: 5432,
    localPort: 15432,
    remoteHost: undefined,
    bindAddress: '127.0.0.1',
    autostart: true,
  });
  assert.is(config.tunnels[1]?.autostart, false);
  assert.is(config.tunnels[1]?.maxSessions, 1, "a tunnel's own cap");
  assert.is(config.settings.maxSessions, 8);
  assert.is(config.settings.earlyRefreshThresholdMs, 600_000);
  assert.is(config.settings.retry.maxAttempts, 3);
  assert.is(config.settings.retry.maxRecoveryDurationMs, 120_000);

  const engine = await createEngine({
    plugins: config.plugins,
    settings: config.settings,
    logger: captureLogger(),
  });
  const creds = await engine.resolveCredentials({
    profile: 'x',
    region: undefined,
    purpose: { kind: 'library' },
    chain: [],
  });
  assert.is(creds.source, 'team');
  const base = {
    profile: 'x',
    region: 'us-east-1',
    target: 'i-0123456789abcdef0',
    remotePort: 1,
    remoteHost: undefined,
    localPort: 1,
    bindAddress: '127.0.0.1',
    documentName: 'AWS-StartPortForwardingSession',
    credentials: creds,
    annotations: {},
  };
  await engine.prepareConnection({ ...base, tunnel: 'db' });
  try {
    await engine.prepareConnection({ ...base, tunnel: 'cache' });
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /stopped by plugin "team-guard": cache is not on the team list/);
  }
});

load('no config file anywhere means built-in plugins and default settings', async () => {
  // Outside the repo, whose own stormtunnel.config.ts the search would otherwise find.
  const dir = project({ 'README.txt': 'nothing here' }, tmpdir());
  const config = await loadConfig({
    cwd: dir,
    builtins: () => [{ name: 'builtin', apply: () => undefined }],
  });
  assert.is(config.file, undefined);
  assert.equal(
    config.plugins.map((p) => p.name),
    ['builtin'],
  );
  assert.equal(config.settings, DEFAULT_SETTINGS);
});

load('JSON, YAML, .stormtunnelrc and package.json#stormtunnel are found', async () => {
  const cases: Record<string, string>[] = [
    {
      'stormtunnel.config.json': JSON.stringify({
        tunnels: [{ name: 'j', target: 'i-0123456789abcdef0', remotePort: 1, localPort: 2 }],
      }),
    },
    {
      'stormtunnel.config.yaml':
        'tunnels:\n  - name: y\n    target: i-0123456789abcdef0\n    remotePort: 1\n    localPort: 2\n',
    },
    {
      '.stormtunnelrc':
        '{"tunnels":[{"name":"rc","target":"i-0123456789abcdef0","remotePort":1,"localPort":2}]}',
    },
    {
      'package.json': JSON.stringify({
        name: 'x',
        stormtunnel: {
          tunnels: [{ name: 'pkg', target: 'i-0123456789abcdef0', remotePort: 1, localPort: 2 }],
        },
      }),
    },
  ];
  const names: string[] = [];
  for (const files of cases) names.push((await loadConfig({ cwd: project(files) })).tunnels[0]!.name);
  assert.equal(names, ['j', 'y', 'rc', 'pkg']);
});

load('--config overrides the search', async () => {
  const dir = project({
    'stormtunnel.config.json': JSON.stringify({ tunnels: [] }),
    'other/team.yaml':
      'tunnels:\n  - name: other\n    target: i-0123456789abcdef0\n    remotePort: 1\n    localPort: 2\n',
  });
  const config = await loadConfig({ cwd: dir, file: 'other/team.yaml' });
  assert.is(config.tunnels[0]?.name, 'other');
  assert.is(config.file, 'other/team.yaml');
});

load.run();

const mistakes = suite('config mistakes');
mistakes.after(cleanup);

async function problem(files: Record<string, string>, file?: string): Promise<string> {
  try {
    await loadConfig({ cwd: project(files), file });
  } catch (err) {
    assert.instance(err, ConfigError);
    assert.is((err as ConfigError).exitCode, 2);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

const json = (v: unknown) => ({ 'stormtunnel.config.json': JSON.stringify(v) });
const t = (over: Record<string, unknown>) => ({
  name: 'db',
  target: 'i-0123456789abcdef0',
  remotePort: 5432,
  localPort: 15432,
  ...over,
});

const CASES: [string, Record<string, string>, string | RegExp, string?][] = [
  [
    'a port that is not a number',
    json({ tunnels: [t({}), t({ name: 'b', remotePort: '5432x', localPort: 2 })] }),
    'stormtunnel.config.json: tunnels[1].remotePort: expected a port number 1-65535, got "5432x"',
  ],
  [
    'a misspelt top-level key',
    json({ tunels: [] }),
    'stormtunnel.config.json: tunels: unknown setting (did you mean "tunnels"?)',
  ],
  [
    'a misspelt tunnel key',
    json({ tunnels: [t({ remoteport: 1 })] }),
    'stormtunnel.config.json: tunnels[0].remoteport: unknown setting (did you mean "remotePort"?)',
  ],
  [
    'duplicate tunnel names',
    json({ tunnels: [t({}), t({ localPort: 2 })] }),
    'stormtunnel.config.json: tunnels[1].name: "db" is already used by tunnels[0]; tunnel names must be unique',
  ],
  [
    'duplicate local ports',
    json({ tunnels: [t({}), t({ name: 'two' })] }),
    'stormtunnel.config.json: tunnels[1].localPort: 15432 is already used by tunnel "db"; pick another port or 0 for a free one',
  ],
  [
    'a tag selector without a value',
    json({ tunnels: [t({ target: 'tag:Name' })] }),
    'stormtunnel.config.json: tunnels[0].target: expected an instance id like "i-0123456789abcdef0", a Name like "bastion", "tag:Key=value" or "ecs:CLUSTER/SERVICE", got "tag:Name"',
  ],
  [
    'no remotePort with a plain remoteHost',
    json({ tunnels: [{ name: 'db', target: 'bastion', remoteHost: 'db.internal', localPort: 2 }] }),
    'stormtunnel.config.json: tunnels[0].remotePort: expected a port number 1-65535, got nothing (only an "rds:" remoteHost may leave it to the database)',
  ],
  [
    'an unknown pick',
    json({ tunnels: [t({ target: 'web', pick: 'oldest' })] }),
    'stormtunnel.config.json: tunnels[0].pick: expected "newest", "random" or "only", got "oldest"',
  ],
  [
    'a malformed region',
    json({ tunnels: [t({ region: 'us-east1' })] }),
    'stormtunnel.config.json: tunnels[0].region: expected an AWS region like "us-east-1", got "us-east1"',
  ],
  [
    'a duration in words',
    json({ settings: { earlyRefreshThreshold: '5 minutes' } }),
    'stormtunnel.config.json: settings.earlyRefreshThreshold: expected a duration like 30 (seconds), "90s", "5m" or "1h", got "5 minutes"',
  ],
  [
    'zero retry attempts',
    json({ settings: { retry: { maxAttempts: 0 } } }),
    'stormtunnel.config.json: settings.retry.maxAttempts: expected a whole number of attempts 1-50, got 0',
  ],
  [
    'seventeen sessions for a tunnel',
    json({ tunnels: [t({ maxSessions: 17 })] }),
    'stormtunnel.config.json: tunnels[0].maxSessions: expected a whole number of sessions 1-16, got 17',
  ],
  [
    'no sessions at all in settings',
    json({ settings: { maxSessions: 0 } }),
    'stormtunnel.config.json: settings.maxSessions: expected a whole number of sessions 1-16, got 0',
  ],
  [
    'a misspelt nested setting',
    json({ settings: { retry: { jiter: false } } }),
    'stormtunnel.config.json: settings.retry.jiter: unknown setting (did you mean "jitter"?)',
  ],
  [
    'a tunnel with no target',
    json({ tunnels: [{ name: 'db', remotePort: 1, localPort: 2 }] }),
    'stormtunnel.config.json: tunnels[0].target: expected an instance id like "i-0123456789abcdef0", a Name like "bastion", "tag:Key=value" or "ecs:CLUSTER/SERVICE", got nothing',
  ],
  [
    'tunnels that are not a list',
    json({ tunnels: { name: 'db' } }),
    'stormtunnel.config.json: tunnels: expected a list',
  ],
  [
    'a plugin factory that was not called',
    { 'stormtunnel.config.mjs': 'export default { plugins: [function sso() {}] }' },
    'stormtunnel.config.mjs: plugins[0]: expected a plugin instance, got a function (did you forget to call it, e.g. sso() instead of sso?)',
  ],
  [
    'two plugins with one name',
    {
      'stormtunnel.config.mjs':
        'const p = () => ({ name: "x", apply() {} }); export default { plugins: [p(), [p()]] }',
    },
    'stormtunnel.config.mjs: plugins: two plugins are named "x" (entries 0 and 1); names must be unique',
  ],
  [
    'a TypeScript syntax error',
    { 'stormtunnel.config.ts': 'export default {\n  tunnels: [\n}' },
    'stormtunnel.config.ts:3:1: Unexpected "}"; fix the syntax',
  ],
  [
    'plugin options a factory rejects',
    {
      'stormtunnel.config.ts': `import { parsePluginOptions } from '${SRC}/engine/plugin.ts';\nimport { z } from 'zod';\nconst f = (o: unknown) => ({ name: 'team', apply() {}, opts: parsePluginOptions('team', z.strictObject({ quiet: z.boolean() }), o) });\nexport default { plugins: [f({ quiet: 'yes' })] };`,
    },
    /^stormtunnel\.config\.ts: plugin "team" options: quiet: /,
  ],
  ['a --config file that does not exist', {}, 'nope.ts: file not found', 'nope.ts'],
];

for (const [name, files, expected, file] of CASES) {
  mistakes(name, async () => {
    const msg = await problem(files, file);
    if (typeof expected === 'string') assert.is(msg, expected);
    else if (!expected.test(msg)) assert.unreachable(`unexpected message: ${msg}`);
    else assert.match(msg, expected);
    assert.not.match(msg, /\n/, 'one line');
  });
}

mistakes('every mistake in a file is reported at once', async () => {
  const msg = await problem(json({ tunnels: [t({ remotePort: 0 }), t({ name: 'x', localPort: -1 })] }));
  assert.match(msg, /2 problems/);
  assert.match(msg, /tunnels\[0\]\.remotePort: expected a port number 1-65535, got 0/);
  assert.match(
    msg,
    /tunnels\[1\]\.localPort: expected a port number 0-65535 \(0 picks a free port\), got -1/,
  );
});

mistakes('the CLI prints a config mistake as one line, exit code 2, no stack trace', async () => {
  const dir = project(json({ tunnels: [t({ remotePort: '5432x' })] }));
  const r = await runCli(['plugins'], { cwd: dir });
  assert.is(r.code, 2);
  assert.is(
    r.stderr,
    'stormtunnel: stormtunnel.config.json: tunnels[0].remotePort: expected a port number 1-65535, got "5432x"\n',
  );
  assert.is(r.stdout, '');
  const verbose = await runCli(['plugins', '--verbose'], { cwd: dir });
  assert.is(verbose.code, 2);
  assert.match(verbose.stderr, /at /, '--verbose adds the stack');
});

mistakes.run();

const bounded = suite('config code is bounded');
bounded.after(cleanup);

async function failureOf(files: Record<string, string>, options: { settleTimeoutMs?: number } = {}) {
  try {
    await loadConfig({ cwd: project(files), ...options });
  } catch (err) {
    assert.instance(err, ConfigError);
    assert.is((err as ConfigError).exitCode, 2);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

const SYNTAX: [string, Record<string, string>, string][] = [
  [
    'a JSON syntax error',
    { 'stormtunnel.config.json': '{\n  "tunnels": [\n  }\n' },
    "stormtunnel.config.json:3:3: unexpected '}', expected a value; fix the syntax",
  ],
  [
    'a trailing comma in JSON',
    { 'stormtunnel.config.json': '{ "tunnels": [], }' },
    "stormtunnel.config.json:1:16: a trailing comma before '}'; fix the syntax",
  ],
  [
    'a JSON syntax error in .stormtunnelrc.json',
    { '.stormtunnelrc.json': '{ "tunnels": [] } x' },
    ".stormtunnelrc.json:1:19: unexpected 'x' after the end of the JSON value; fix the syntax",
  ],
  [
    'a YAML syntax error',
    { 'stormtunnel.config.yaml': 'tunnels:\n  - name: a\n   bad: [\n' },
    'stormtunnel.config.yaml:3:4: bad indentation of a sequence entry; fix the syntax',
  ],
  [
    'a TypeScript syntax error in a file the config imports',
    {
      'stormtunnel.config.ts':
        "import { team } from './team/plugin.js';\nexport default { plugins: [team()] };",
      'team/plugin.ts': 'export function team() {\n  return { name: "team", apply() { if ( } };\n}\n',
    },
    'team/plugin.ts:2:41: Unexpected "}"; fix the syntax',
  ],
];
for (const [name, files, expected] of SYNTAX) {
  bounded(name, async () => {
    assert.is(await failureOf(files), expected);
  });
}

bounded('a function export that returns undefined is called exactly that (not an empty file)', async () => {
  const expected =
    'stormtunnel.config.mjs: the exported function returned undefined; return the config, e.g. `return defineConfig({ tunnels: [] })`';
  assert.is(await failureOf({ 'stormtunnel.config.mjs': 'export default () => undefined;' }), expected);
  assert.is(
    await failureOf({ 'stormtunnel.config.mjs': 'export default async () => { await null; };' }),
    expected,
  );
});

bounded('config code that does not settle is named, whichever part waits', async () => {
  const cases: [string, string][] = [
    ['export default new Promise(() => {});', 'the exported promise did not settle'],
    ['export default () => new Promise(() => {});', 'the promise of the exported function did not settle'],
    ['await new Promise(() => {});\nexport default {};', 'its top-level code did not finish'],
  ];
  for (const [code, what] of cases) {
    assert.is(
      await failureOf({ 'stormtunnel.config.mjs': code }, { settleTimeoutMs: 300 }),
      `stormtunnel.config.mjs: ${what} within 0.3 s; check what it waits for (a network call, a prompt, a timer) or export the config object itself`,
    );
  }
  const ts = await failureOf(
    { 'stormtunnel.config.ts': 'export default new Promise<object>(() => {});' },
    { settleTimeoutMs: 300 },
  );
  assert.match(ts, /^stormtunnel\.config\.ts: the exported promise did not settle within 0\.3 s;/);
});

bounded('a config cannot end the process while it loads, and process.exit is put back', async () => {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- compared, never called
  const original = process.exit;
  const expected =
    'its code called process.exit(3) while the config loaded; a config must export its settings, not end the process';
  assert.is(
    await failureOf({ 'stormtunnel.config.ts': 'process.exit(3);\nexport default {};' }),
    `stormtunnel.config.ts: ${expected}`,
  );
  assert.ok(process.exit === original, 'process.exit is the original again');
  // Also when the config catches what process.exit threw and goes on.
  assert.is(
    await failureOf({
      'stormtunnel.config.mjs': 'try { process.exit(3); } catch {}\nexport default { tunnels: [] };',
    }),
    `stormtunnel.config.mjs: ${expected}`,
  );
  assert.ok(process.exit === original, 'process.exit is the original again');
});

bounded.run();
