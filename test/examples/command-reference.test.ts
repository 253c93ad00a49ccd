// The README's reference sections against the code: every command's `--help` as the binary prints it, and
// every config key with its default.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildProgram } from '../../src/cli/program.js';
import { DEFAULT_SETTINGS } from '../../src/config/defaults.js';
import { duration, KNOWN_KEYS } from '../../src/config/schema.js';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { helpText } from '../helpers/help-text.js';

const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const test = suite('README reference');

/** `<!-- help: stormtunnel up -->` followed by a ```text block: command words -> the block. */
function helpBlocks(): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of README.matchAll(/<!-- help: stormtunnel(.*?) -->\n```text\n([\s\S]*?)```\n/g)) {
    out.set(m[1]!.trim(), m[2]!);
  }
  return out;
}

/** Every command path of the real program, e.g. "", "up", "configure", "configure sso". */
function commandPaths(): string[] {
  const program = buildProgram(
    { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: REPO_ROOT },
    () => undefined,
  );
  const walk = (c: Command, prefix: string[]): string[][] => [
    prefix,
    ...c.commands.flatMap((sub) => walk(sub, [...prefix, sub.name()])),
  ];
  return walk(program, []).map((p) => p.join(' '));
}

test('every command of the program has its --help in the README', () => {
  const documented = [...helpBlocks().keys()].sort();
  assert.equal(documented, commandPaths().sort());
});

test('each README --help block is exactly what the program prints', async () => {
  const blocks = [...helpBlocks()];
  assert.ok(blocks.length >= 15, `only ${blocks.length} help blocks found`);
  for (const [cmd, text] of blocks) {
    assert.fixture(await helpText(cmd.split(' ').filter(Boolean)), text, `stormtunnel ${cmd} --help`);
  }
});

test('the binary prints the same help as the program (top level and a command)', async () => {
  for (const words of [[], ['up']]) {
    const r = await runCli([...words, '--help'], { timeoutMs: 120_000 });
    assert.is(r.code, 0, r.stderr);
    assert.fixture(r.stdout, await helpText(words), `stormtunnel ${words.join(' ')} --help`);
  }
});

test('the config reference names every key the schema accepts', () => {
  for (const [level, keys] of Object.entries(KNOWN_KEYS)) {
    for (const key of keys) {
      // tunnels and settings have sections of their own; settings.retry's keys are listed as retry.*
      if ((level === '' && key !== 'plugins') || (level === 'settings' && key === 'retry')) continue;
      const name = level === 'settings.retry' ? `retry.${key}` : key;
      assert.ok(
        README.includes(`| \`${name}\` |`) || README.includes(`### \`${name}\``),
        `README lacks ${level} ${key}`,
      );
    }
  }
});

test('the settings defaults in the README are the real defaults', () => {
  const parse = duration();
  const row = (key: string) => {
    const m = new RegExp(`^\\| \`${key.replace('.', '\\.')}\` \\| \`([^\`]+)\` \\|`, 'm').exec(README);
    assert.ok(m, `no row for settings ${key}`);
    return JSON.parse(m[1]!) as unknown;
  };
  const ms = (key: string) => parse.parse(row(key));
  const d = DEFAULT_SETTINGS;
  assert.is(row('autoRefresh'), d.autoRefresh);
  assert.is(ms('earlyRefreshThreshold'), d.earlyRefreshThresholdMs);
  assert.is(ms('refreshCheckInterval'), d.refreshCheckIntervalMs);
  assert.is(row('retry.maxAttempts'), d.retry.maxAttempts);
  assert.is(ms('retry.maxRecoveryDuration'), d.retry.maxRecoveryDurationMs);
  assert.is(row('retry.jitter'), d.retry.jitter);
  assert.is(ms('retry.baseDelay'), d.retry.baseDelayMs);
  assert.is(ms('retry.maxDelay'), d.retry.maxDelayMs);
  assert.is(ms('retry.throttleDelay'), d.retry.throttleDelayMs);
  assert.is(row('keychain'), d.keychain);
  assert.is(row('shareWithAwsCli'), d.shareWithAwsCli);
  assert.is(row('notifications'), d.notifications);
});

test.run();
