// The commands built on target resolution, as the real binary against the emulator: `targets` (table and
// JSON against its schema), `rds-token` (signed for the database's real endpoint), and `add` (the picker
// writes a tunnel into a config with comments, and `check` finds it working).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { SEED_STATIC_ACCESS_KEY_ID, SEED_STATIC_SECRET_ACCESS_KEY } from '../../src/emulator/state.js';
import { testAwsHome, type TestAwsHome } from '../../src/testing/index.js';
import { REPO_ROOT, runCli, stormtunnelModule } from '../helpers/cli.js';
import { validate, type Schema } from '../helpers/json-schema.js';
import { STATIC_CREDENTIALS } from '../tunnels/helpers.js';

const test = suite('targets: commands');
const VIEWER = {
  accessKeyId: 'AKIAEMULATORVIEWER01',
  secretAccessKey: 'emulator/viewer/SECRET/key/000000000000',
};
let emu: RunningEmulator;
let home: TestAwsHome;
let dir: string;
let env: NodeJS.ProcessEnv;

test.before(async () => {
  emu = await startEmulator({
    port: 0,
    state: {
      iamUsers: [
        {
          arn: 'arn:aws:iam::111111111111:user/ci',
          accessKeyId: SEED_STATIC_ACCESS_KEY_ID,
          secretAccessKey: SEED_STATIC_SECRET_ACCESS_KEY,
        },
        // May look up instances, not ECS tasks or databases.
        {
          arn: 'arn:aws:iam::111111111111:user/viewer',
          ...VIEWER,
          deny: ['ecs:ListTasks', 'rds:DescribeDBInstances'],
        },
      ],
    },
  });
  home = testAwsHome({
    config: '[default]\nregion = us-east-1\n[profile viewer]\nregion = us-east-1\n',
    credentials: `${STATIC_CREDENTIALS}[viewer]\naws_access_key_id = ${VIEWER.accessKeyId}\naws_secret_access_key = ${VIEWER.secretAccessKey}\n`,
    emulatorEnv: emu.env(),
  });
  dir = mkdtempSync(join(tmpdir(), 'stormtunnel-targets-cli-'));
  env = { ...home.env, XDG_STATE_HOME: join(dir, 'state'), STORMTUNNEL_LOG_LEVEL: 'warn' };
});
test.after(async () => {
  await emu.close();
  home.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

test('targets: Name, id, platform, agent and ping of every node; --json is data', async () => {
  const table = await runCli(['targets'], { env, cwd: dir });
  assert.is(table.code, 0, table.stderr);
  const lines = table.stdout.trim().split('\n');
  assert.match(lines[0] ?? '', /^NAME\s+ID\s+PLATFORM\s+AGENT\s+PING$/);
  assert.match(table.stdout, /bastion\s+i-0123456789abcdef0\s+Amazon Linux\s+3\.3\.1957\.0\s+Online/);
  assert.match(table.stdout, /offline-box\s+i-0deadbeefdeadbeef\s+.*ConnectionLost/);
  assert.not.match(table.stdout, /west-app|prod-bastion/, 'other regions and accounts are not listed');

  const r = await runCli(['targets', '--json'], { env, cwd: dir });
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { nodes: { id: string; name: string | null }[] };
  const schema = JSON.parse(
    readFileSync(join(REPO_ROOT, 'schemas', 'targets.schema.json'), 'utf8'),
  ) as Schema;
  assert.equal(validate(schema, out), []);
  assert.equal(
    out.nodes.map((n) => [n.name, n.id]),
    [
      ['bastion', 'i-0123456789abcdef0'],
      ['db-proxy', 'i-0fedcba9876543210'],
      ['offline-box', 'i-0deadbeefdeadbeef'],
    ],
  );
});

test('rds-token: a token for the real endpoint and port, never for 127.0.0.1; a tunnel without rds: is refused', async () => {
  const config = join(dir, 'rds.config.json');
  writeFileSync(
    config,
    JSON.stringify({
      tunnels: [
        { name: 'orders', target: 'bastion', remoteHost: 'rds:orders', localPort: 0 },
        { name: 'plain', target: 'bastion', remotePort: 22, localPort: 0 },
      ],
    }),
  );
  const r = await runCli(['--config', config, 'rds-token', 'orders', '--user', 'app'], { env, cwd: dir });
  assert.is(r.code, 0, r.stderr);
  const token = r.stdout.trim();
  assert.ok(token.startsWith('orders.c0emulator01.us-east-1.rds.amazonaws.com:5432/?'), token);
  const q = new URLSearchParams(token.slice(token.indexOf('?') + 1));
  assert.is(q.get('Action'), 'connect');
  assert.is(q.get('DBUser'), 'app');
  assert.match(
    q.get('X-Amz-Credential') ?? '',
    new RegExp(`^${SEED_STATIC_ACCESS_KEY_ID}/\\d{8}/us-east-1/rds-db/aws4_request$`),
  );
  assert.is(q.get('X-Amz-Expires'), '900');
  assert.match(q.get('X-Amz-Signature') ?? '', /^[0-9a-f]{64}$/);

  const plain = await runCli(['--config', config, 'rds-token', 'plain', '--user', 'app'], { env, cwd: dir });
  assert.is(plain.code, 2);
  assert.match(plain.stderr, /tunnel "plain" has no rds: remoteHost/);
});

test('rds-token goes through the tunnel’s connection path: a beforeConnect veto refuses the token', async () => {
  const config = join(dir, 'rds-veto.config.mjs');
  const builtins = pathToFileURL(stormtunnelModule('src/index.ts')).href;
  writeFileSync(
    config,
    `import { builtinPlugins } from ${JSON.stringify(builtins)};
const freeze = { name: 'change-freeze', apply(api) {
  api.hooks.beforeConnect.tap((d) => ({ veto: true, reason: 'no database access during the freeze (' + d.remoteHost + ')' }));
} };
export default {
  plugins: [...builtinPlugins(), freeze],
  tunnels: [{ name: 'orders', target: 'bastion', remoteHost: 'rds:orders', localPort: 0 }],
};
`,
  );
  const r = await runCli(['--config', config, 'rds-token', 'orders', '--user', 'app'], { env, cwd: dir });
  assert.is(r.code, 10, r.stderr); // the vetoed class's exit code (docs/errors.md)
  assert.is(r.stdout, '', 'no token printed');
  // The guard saw the resolved endpoint, not the rds: name.
  assert.match(
    r.stderr,
    /change-freeze.*no database access during the freeze \(orders\.c0emulator01\.us-east-1\.rds\.amazonaws\.com\)/,
  );
});

test('check: what each name resolved to, and a name that resolves to nothing as one failed check', async () => {
  const config = join(dir, 'check.config.json');
  writeFileSync(
    config,
    JSON.stringify({
      tunnels: [
        { name: 'api', target: 'ecs:apps/api', remotePort: 80, localPort: 0 },
        { name: 'nope', target: 'tag:Name=nope', remotePort: 80, localPort: 0 },
        { name: 'db', target: 'bastion', remoteHost: 'rds:orders', localPort: 0 },
      ],
    }),
  );
  const r = await runCli(['--config', config, 'check'], { env, cwd: dir });
  assert.is(r.code, 1, r.stdout + r.stderr);
  const out = r.stdout;
  assert.match(
    out,
    /instance: ecs:apps\/api: task 0a1b2c3d4e5f60718293a4b5c6d7e8f9 container app, the only match in us-east-1 \(ECS task\)/,
  );
  assert.match(
    out,
    /instance: tunnel "nope": no instance with tag Name=nope in us-east-1 is running and online in Session Manager; found no instance with that tag\n/,
  );
  assert.match(
    out,
    /tunnel "db" \(profile default, us-east-1, bastion port \(the database's\) on rds:orders\)/,
  );
  assert.match(out, /instance: i-0123456789abcdef0 \(bastion\) for bastion is online/);
  assert.match(out, /port 5432 on orders\.c0emulator01\.us-east-1\.rds\.amazonaws\.com/);
  // What each resolution needed, granted; no step for what a tunnel does not resolve.
  assert.match(out, /permissions: granted: ecs:ListTasks, ecs:DescribeTasks \(to resolve ecs:apps\/api\)\n/);
  assert.match(
    out,
    /permissions: granted: ec2:DescribeInstances, ssm:DescribeInstanceInformation, rds:DescribeDBInstances \(to resolve bastion and rds:orders\)\n/,
  );
  assert.match(out, /1 of 14 checks failed, 2 skipped/);
});

test('check: a resolution permission denied is a failed permissions step naming the action', async () => {
  const config = join(dir, 'denied.config.json');
  writeFileSync(
    config,
    JSON.stringify({
      tunnels: [
        { name: 'web', target: 'bastion', remotePort: 22, localPort: 0 },
        { name: 'api', target: 'ecs:apps/api', remotePort: 80, localPort: 0 },
        { name: 'db', target: 'i-0123456789abcdef0', remoteHost: 'rds:orders', localPort: 0 },
        { name: 'plain', target: 'i-0123456789abcdef0', remotePort: 22, localPort: 0 },
      ],
    }),
  );
  const r = await runCli(['--config', config, '--profile', 'viewer', 'check', '--json'], { env, cwd: dir });
  assert.is(r.code, 1, r.stdout + r.stderr);
  const out = JSON.parse(r.stdout) as {
    subjects: { name: string; checks: { id: string; status: string; message: string; hint?: string }[] }[];
  };
  const schema = JSON.parse(readFileSync(join(REPO_ROOT, 'schemas', 'check.schema.json'), 'utf8')) as Schema;
  assert.equal(validate(schema, out), []);
  const steps = (name: string) => out.subjects.find((s) => s.name === name)?.checks ?? [];
  const perm = (name: string) => steps(name).find((c) => c.id === 'permissions');
  assert.is(perm('web')?.status, 'pass');
  assert.match(
    perm('web')?.message ?? '',
    /^granted: ec2:DescribeInstances, ssm:DescribeInstanceInformation /,
  );
  assert.is(perm('api')?.status, 'fail', JSON.stringify(steps('api')));
  assert.match(
    perm('api')?.message ?? '',
    /^Contact AWS Administrator: ecs:ListTasks was denied for profile "viewer"/,
  );
  assert.match(perm('api')?.hint ?? '', /allow ecs:ListTasks for arn:aws:iam::111111111111:user\/viewer/);
  assert.equal(
    steps('api').map((c) => `${c.id} ${c.status}`),
    ['credentials pass', 'permissions fail', 'instance skip', 'start-session skip', 'end-session skip'],
  );
  assert.match(perm('db')?.message ?? '', /rds:DescribeDBInstances was denied/);
  // An instance id with a plain host resolves nothing: no permission of EC2, ECS or RDS is asked.
  assert.is(perm('plain'), undefined);
  assert.equal(
    steps('plain').map((c) => c.status),
    ['pass', 'pass', 'pass', 'pass'],
  );
});

test('add: the picker (numbered when stdin is no terminal) writes a tunnel, comments kept, and it works', async () => {
  const config = join(dir, 'stormtunnel.config.ts');
  writeFileSync(config, `// Team tunnels: this comment stays.\nexport default {\n  tunnels: [],\n};\n`);
  // One answer: the numbered picker loses lines that arrive before its next question (piped input).
  const r = await runCli(['--config', config, 'add', '--remote-port', '22', '--local-port', '0'], {
    env,
    cwd: dir,
    input: '2\n',
  });
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stderr, /Target:\n\s+1\. bastion/);
  assert.match(r.stdout, /tunnel "db-proxy" \(db-proxy port 22\) added to /);
  const text = readFileSync(config, 'utf8');
  assert.ok(text.startsWith('// Team tunnels: this comment stays.\n'), text);
  assert.match(text, /target: 'db-proxy'/);
  const check = await runCli(['--config', config, 'check', '--tunnel', 'db-proxy'], { env, cwd: dir });
  assert.is(check.code, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /i-0fedcba9876543210/);
});

test.run();
