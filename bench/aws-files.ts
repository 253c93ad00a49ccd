// Hostile ~/.aws files (issue 17): stormtunnel's profile loading, validation and resolution against
// botocore's on the same files, measured in the same run. Two HOMEs in a temp folder:
//   chain: a 200-hop source_profile chain (p0 has static keys, p1..p200 each assume a role from the previous)
//   big:   a ~14 MB config of 90,000 profiles (static keys, SSO with sso-session, assume-role chains of up
//          to 3 roles, credential_process) and 100 sso-sessions
// Each side runs in its own process (peak RSS is that process's):
//   stormtunnel in-process: loadSharedConfig + validateConfig + describeProfiles (what `stormtunnel
//     profiles` does: every profile classified, its role chain resolved and validated)
//   stormtunnel CLI: `stormtunnel profiles --json` end to end (Node start, tsx or dist/, output to /dev/null)
//   botocore (Debian python3-botocore 1.29.27 under /usr/bin/python3): Session().full_config (both files
//     parsed), then for every profile botocore's own providers in its order (AssumeRoleProvider, SSOProvider,
//     SharedCredentialProvider, ProcessProvider, ConfigProvider) through CredentialResolver.load_credentials.
//     AssumeRoleProvider walks source_profile with its loop checks (_get_role_config,
//     _validate_source_profile, _resolve_source_credentials) down to the source's credentials. No network:
//     assume-role and SSO credentials are deferred (fetched on first use, never here); ProcessProvider gets a
//     popen that returns fixed JSON instead of starting the process; the file providers get the parsed maps
//     instead of re-reading the files for each profile (what they would do in one session per profile).
//   botocore process: the same script end to end (Python start and botocore import included).
// Ratios are ours / botocore's (below 1: we are faster).
//
// Usage: node --import tsx bench/aws-files.ts [chain|big ...]   (npm run bench:aws-files)
// BENCH_RUNS=3 runs of each (alternated; medians). BENCH_TIMEOUT_S=300 per process: a run that does not finish
// prints "> N s". BENCH_CLI_ROOT=<checkout> measures another checkout's sources and CLI (e.g. a worktree of
// an older commit, for before/after figures). BENCH_BUILT=1 runs the CLI from dist/ (npm run build first).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as Aws from '../src/aws/index.js';

const ROOT = process.env.BENCH_CLI_ROOT ?? fileURLToPath(new URL('..', import.meta.url));
const PYTHON = '/usr/bin/python3';
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const TIMEOUT_S = Number(process.env.BENCH_TIMEOUT_S ?? 300);
const CHAIN_HOPS = 200;
const BIG_PROFILES = 90_000;

// ---------------------------------------------------------------- the files

function chainConfig(hops: number): string {
  const parts = [
    '[profile p0]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\nregion = eu-west-1\n',
  ];
  for (let i = 1; i <= hops; i++)
    parts.push(
      `[profile p${i}]\nrole_arn = arn:aws:iam::${100000000000 + i}:role/Hop${i}\nsource_profile = p${i - 1}\n`,
    );
  return parts.join('\n');
}

function bigConfig(profiles: number): string {
  const sessions = 100;
  const parts: string[] = [];
  for (let s = 0; s < sessions; s++)
    parts.push(
      `[sso-session corp${s}]\nsso_start_url = https://corp${s}.awsapps.com/start\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n`,
    );
  const regions = ['us-east-1', 'eu-west-1', 'ap-southeast-2', 'eu-central-1'];
  const name = (i: number) => `prof-${String(i).padStart(6, '0')}`;
  for (let i = 0; i < profiles; i++) {
    const account = String(100000000000 + i);
    const kind = i % 10;
    let body: string;
    if (kind <= 2)
      body = `aws_access_key_id = AKIA${String(i).padStart(16, '0')}\naws_secret_access_key = ${'x'.repeat(30)}${String(i).padStart(10, '0')}\n`;
    else if (kind <= 5)
      body = `sso_session = corp${i % sessions}\nsso_account_id = ${account}\nsso_role_name = Developer\n`;
    // 6: a role from the SSO profile 3 before; 7 and 8: a role from the one before (chains of 3 roles).
    else if (kind === 6)
      body = `role_arn = arn:aws:iam::${account}:role/Deploy\nsource_profile = ${name(i - 3)}\n`;
    else if (kind <= 8)
      body = `role_arn = arn:aws:iam::${account}:role/Deploy${kind}\nsource_profile = ${name(i - 1)}\nrole_session_name = bench\n`;
    else body = `credential_process = /usr/local/bin/get-creds --account ${account}\n`;
    parts.push(
      `# team ${i % 97}\n[profile ${name(i)}]\n${body}region = ${regions[i % regions.length]}\noutput = json\n`,
    );
  }
  return parts.join('\n');
}

// ---------------------------------------------------------------- the measured processes

const BOTOCORE_SCRIPT = `
import json, resource, sys, time
start = time.perf_counter()
cpu = time.process_time
cpu_start = cpu()
import botocore.session, botocore.configloader, botocore.credentials as bc
imported = time.perf_counter()
cpu_imported = cpu()
session = botocore.session.Session()
cfg = session.full_config
creds_file = session.get_config_variable('credentials_file')
config_file = session.get_config_variable('config_file')
try:
    creds_raw = botocore.configloader.raw_config_parse(creds_file)
except Exception:
    creds_raw = {}
loaded = time.perf_counter()
cpu_loaded = cpu()

class FixedProcess:
    """Stands in for subprocess.Popen: the credential_process is not started."""
    returncode = 0
    def __init__(self, *args, **kwargs):
        pass
    def communicate(self):
        return (b'{"Version": 1, "AccessKeyId": "AKIA", "SecretAccessKey": "s"}', b'')

load_config = lambda: cfg
def profile_providers(name, disable_env_vars=False):
    # ProfileProviderBuilder's order (no web identity profiles here), reading the already parsed files.
    return [
        bc.SSOProvider(load_config=load_config, client_creator=session.create_client, profile_name=name, cache={}, token_cache={}),
        bc.SharedCredentialProvider(creds_file, name, ini_parser=lambda _: creds_raw),
        bc.ProcessProvider(name, load_config, popen=FixedProcess),
        bc.ConfigProvider(config_file, name, config_parser=lambda _: cfg),
    ]
class Builder:
    def providers(self, profile_name, disable_env_vars=False):
        return profile_providers(profile_name, disable_env_vars)

resolved = failed = 0
for name in list(cfg['profiles']):
    providers = [bc.AssumeRoleProvider(load_config, session.create_client, {}, name, profile_provider_builder=Builder())]
    try:
        if bc.CredentialResolver(providers + profile_providers(name)).load_credentials() is not None:
            resolved += 1
    except Exception:
        failed += 1
done = time.perf_counter()
cpu_done = cpu()
print(json.dumps({
    'profiles': len(cfg['profiles']), 'resolved': resolved, 'failed': failed,
    'importMs': (imported - start) * 1000, 'loadMs': (loaded - imported) * 1000,
    'resolveMs': (done - loaded) * 1000, 'totalMs': (done - imported) * 1000,
    'loadCpuMs': (cpu_loaded - cpu_imported) * 1000, 'resolveCpuMs': (cpu_done - cpu_loaded) * 1000,
    'totalCpuMs': (cpu_done - cpu_imported) * 1000,
    'maxRssKb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
}))
`;

// Runs a command under Python's wall clock and reads the peak RSS of the process tree from getrusage.
const WRAPPER = `
import json, resource, subprocess, sys, time
t = time.perf_counter()
try:
    r = subprocess.run(sys.argv[2:], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=float(sys.argv[1]))
    code, out = r.returncode, r.stdout.decode()[-4000:]
except subprocess.TimeoutExpired:
    code, out = 'timeout', ''
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({'code': code, 'ms': (time.perf_counter() - t) * 1000, 'cpuMs': (u.ru_utime + u.ru_stime) * 1000,
    'maxRssKb': u.ru_maxrss, 'stdout': out}))
`;

interface Measured {
  ms: number | undefined;
  /** User + system CPU of the process and its children: steadier than wall time on a shared machine. */
  cpuMs: number;
  maxRssKb: number;
  stdout: string;
}

function measure(home: string, argv: string[], env: NodeJS.ProcessEnv = {}): Measured {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, HOME: home };
  // Only the files in HOME: no AWS_* from the shell (a profile, other file paths, a region).
  for (const k of Object.keys(childEnv)) if (k.startsWith('AWS_')) delete childEnv[k];
  const r = spawnSync(PYTHON, ['-c', WRAPPER, String(TIMEOUT_S), ...argv], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: childEnv,
  });
  if (r.status !== 0) throw new Error(`wrapper failed: ${r.stderr}`);
  const m = JSON.parse(r.stdout) as Measured & { code: number | string };
  if (m.code === 'timeout') return { ms: undefined, cpuMs: m.cpuMs, maxRssKb: m.maxRssKb, stdout: '' };
  // `profiles` exits 2 when a profile has a problem; the bench's files have none.
  if (m.code !== 0) throw new Error(`${argv.join(' ')} exited ${m.code}`);
  return { ms: m.ms, cpuMs: m.cpuMs, maxRssKb: m.maxRssKb, stdout: m.stdout };
}

/** The in-process measurement of our side: run by this file in a child (`--worker HOME`). */
async function worker(home: string): Promise<void> {
  const aws = (await import(pathToFileURL(join(ROOT, 'src/aws/index.ts')).href)) as typeof Aws;
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const t0 = performance.now();
  const c0 = cpu();
  const config = await aws.loadSharedConfig({ env: { HOME: home } });
  const t1 = performance.now();
  const c1 = cpu();
  const { errors } = aws.validateConfig(config);
  const t2 = performance.now();
  const rows = aws.describeProfiles(config);
  const t3 = performance.now();
  const c3 = cpu();
  console.log(
    JSON.stringify({
      profiles: rows.length,
      errors: errors.length + rows.filter((r) => r.errors.length).length,
      loadMs: t1 - t0,
      validateMs: t2 - t1,
      describeMs: t3 - t2,
      totalMs: t3 - t0,
      loadCpuMs: c1 - c0,
      resolveCpuMs: c3 - c1,
      totalCpuMs: c3 - c0,
      maxRssKb: process.resourceUsage().maxRSS,
    }),
  );
}

interface Round {
  ours: Record<string, number> | undefined;
  cli: Measured;
  boto: Record<string, number>;
  botoProcess: Measured;
  /** The same two processes with no ~/.aws files: start-up alone. */
  cliEmpty: Measured;
  botoEmpty: Measured;
}

function round(home: string, emptyHome: string): Round {
  const self = fileURLToPath(import.meta.url);
  const inProcess = measure(home, [process.execPath, '--import', 'tsx', self, '--worker', home]);
  const built = process.env.BENCH_BUILT === '1';
  if (built && !existsSync(join(ROOT, 'dist/src/cli/main.js')))
    throw new Error('BENCH_BUILT=1 but no dist/: run npm run build');
  const cli = measure(home, [process.execPath, join(ROOT, 'bin/stormtunnel.js'), 'profiles', '--json'], {
    STORMTUNNEL_FROM_SOURCE: built ? '0' : '1',
  });
  const botoProcess = measure(home, [PYTHON, '-c', BOTOCORE_SCRIPT]);
  if (botoProcess.ms === undefined) throw new Error('botocore did not finish');
  const cliEmpty = measure(
    emptyHome,
    [process.execPath, join(ROOT, 'bin/stormtunnel.js'), 'profiles', '--json'],
    {
      STORMTUNNEL_FROM_SOURCE: built ? '0' : '1',
    },
  );
  const botoEmpty = measure(emptyHome, [PYTHON, '-c', BOTOCORE_SCRIPT]);
  return {
    cliEmpty,
    botoEmpty,
    ours: inProcess.ms === undefined ? undefined : (JSON.parse(inProcess.stdout) as Record<string, number>),
    cli,
    boto: JSON.parse(botoProcess.stdout) as Record<string, number>,
    botoProcess,
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};
const fmtS = (ms: number | undefined) =>
  ms === undefined ? `> ${TIMEOUT_S} s` : `${(ms / 1000).toFixed(2)} s`;

function report(name: string, rounds: Round[]): void {
  const first = rounds[0] as Round;
  console.log(
    `\n== ${name}: ${first.boto.profiles} profiles (botocore resolved ${first.boto.resolved}, failed ${first.boto.failed}); ${rounds.length} run(s), medians; CPU time (wall time)`,
  );
  const finished = rounds.every((r) => r.ours !== undefined && r.cli.ms !== undefined);
  const ours = (k: string) =>
    finished ? median(rounds.map((r) => (r.ours as Record<string, number>)[k] as number)) : undefined;
  const boto = (k: string) => median(rounds.map((r) => r.boto[k] as number));
  const cli = (k: 'ms' | 'cpuMs') => (finished ? median(rounds.map((r) => r.cli[k] as number)) : undefined);
  const botoProcess = (k: 'ms' | 'cpuMs') => median(rounds.map((r) => r.botoProcess[k] as number));
  const both = (cpu: number | undefined, wall: number | undefined) =>
    cpu === undefined || wall === undefined ? `> ${TIMEOUT_S} s` : `${fmtS(cpu)} (${fmtS(wall)})`;
  const rows: [string, number | undefined, number | undefined, number, number][] = [
    ['load (read + parse the files)', ours('loadCpuMs'), ours('loadMs'), boto('loadCpuMs'), boto('loadMs')],
    [
      'validate + resolve every profile',
      ours('resolveCpuMs'),
      finished ? (ours('validateMs') as number) + (ours('describeMs') as number) : undefined,
      boto('resolveCpuMs'),
      boto('resolveMs'),
    ],
    ['in-process total', ours('totalCpuMs'), ours('totalMs'), boto('totalCpuMs'), boto('totalMs')],
    ['process end to end', cli('cpuMs'), cli('ms'), botoProcess('cpuMs'), botoProcess('ms')],
    [
      'process minus its start-up',
      finished ? (cli('cpuMs') as number) - median(rounds.map((r) => r.cliEmpty.cpuMs)) : undefined,
      finished ? (cli('ms') as number) - median(rounds.map((r) => r.cliEmpty.ms as number)) : undefined,
      botoProcess('cpuMs') - median(rounds.map((r) => r.botoEmpty.cpuMs)),
      botoProcess('ms') - median(rounds.map((r) => r.botoEmpty.ms as number)),
    ],
  ];
  console.log(
    `${'what'.padEnd(34)}${'stormtunnel'.padStart(20)}${'botocore'.padStart(20)}${'ratio cpu (wall)'.padStart(18)}`,
  );
  for (const [what, cpu, wall, bcpu, bwall] of rows) {
    const r =
      cpu === undefined || wall === undefined
        ? '-'
        : `${(cpu / bcpu).toFixed(2)} (${(wall / bwall).toFixed(2)})`;
    console.log(
      `${what.padEnd(34)}${both(cpu, wall).padStart(20)}${both(bcpu, bwall).padStart(20)}${r.padStart(18)}`,
    );
  }
  const rss = (xs: number[]) => `${(median(xs) / 1024).toFixed(0)} MB`;
  console.log(
    `${'peak RSS, in-process / process'.padEnd(34)}${(finished ? `${rss(rounds.map((r) => (r.ours as Record<string, number>).maxRssKb as number))} / ${rss(rounds.map((r) => r.cli.maxRssKb))}` : '-').padStart(20)}${`${rss(rounds.map((r) => r.boto.maxRssKb as number))} / ${rss(rounds.map((r) => r.botoProcess.maxRssKb))}`.padStart(20)}`,
  );
  if (finished)
    console.log(
      `  ours (wall): load ${fmtS(ours('loadMs'))}, validateConfig ${fmtS(ours('validateMs'))}, describeProfiles ${fmtS(ours('describeMs'))}; botocore import ${fmtS(boto('importMs'))}`,
    );
}

if (process.argv[2] === '--worker') {
  await worker(process.argv[3] as string);
} else {
  const cases = process.argv.slice(2).length ? process.argv.slice(2) : ['chain', 'big'];
  const base = mkdtempSync(join(tmpdir(), 'stormtunnel-bench-aws-'));
  try {
    mkdirSync(join(base, 'empty'));
    console.log(
      `stormtunnel from ${ROOT}${process.env.BENCH_BUILT === '1' ? ' (dist/)' : ' (sources, tsx)'}`,
    );
    for (const name of cases) {
      const text =
        name === 'chain' ? chainConfig(CHAIN_HOPS) : name === 'big' ? bigConfig(BIG_PROFILES) : undefined;
      if (text === undefined) throw new Error(`unknown case ${name}: use chain or big`);
      const home = join(base, name);
      mkdirSync(join(home, '.aws'), { recursive: true });
      writeFileSync(join(home, '.aws', 'config'), text);
      writeFileSync(join(home, '.aws', 'credentials'), '');
      console.log(`${name}: ~/.aws/config ${(text.length / 1e6).toFixed(1)} MB`);
      const rounds: Round[] = [];
      for (let i = 0; i < RUNS; i++) rounds.push(round(home, join(base, 'empty')));
      report(name, rounds);
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}
