// Issue 17 (hostile input): resolving and validating profiles does work linear in the length of a role chain
// and in the number of profiles. Work is counted (profile lookups, sections and diagnostics looked at), not
// timed: each case compares the count at n with the count at 2n.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  describeProfiles,
  resolveRoleChain,
  sharedConfigFromText,
  validateConfig,
  validateProfile,
} from '../../src/aws/index.js';
import type { Profile, SharedConfig } from '../../src/aws/index.js';

const ENV = { HOME: '/home/scale' };

/** `p0` has static keys; `p1` ... `pn` each assume a role with the previous one as source_profile. */
function chainText(n: number, tail = ''): string {
  let s = '[profile p0]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = secret\n';
  for (let i = 1; i <= n; i++)
    s += `[profile p${i}]\nrole_arn = arn:aws:iam::123456789012:role/R${i}\nsource_profile = p${i - 1}\n`;
  return s + tail;
}

/** n profiles of every kind, with file diagnostics (inline comments) on some of them. */
function mixedText(n: number): string {
  let s = '[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n';
  for (let i = 0; i < n; i++) {
    const k = i % 5;
    s += `[profile m${i}]\n`;
    if (k === 0) s += 'aws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = secret\n';
    if (k === 1) s += 'sso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Dev\n';
    if (k === 2 || k === 3) s += `role_arn = arn:aws:iam::123456789012:role/R\nsource_profile = m${i - 1}\n`;
    if (k === 4) s += 'credential_process = /bin/creds\n';
    s += i % 10 === 0 ? 'region = eu-west-1 # inline\n' : 'region = eu-west-1\n';
  }
  return s;
}

/** The config with its profile map and the config file's sections and diagnostics counting each look. */
function counted(config: SharedConfig): { config: SharedConfig; work: () => number } {
  let work = 0;
  class CountingMap extends Map<string, Profile> {
    override get(key: string): Profile | undefined {
      work++;
      return super.get(key);
    }
    override has(key: string): boolean {
      work++;
      return super.has(key);
    }
  }
  const countElements = <T extends object>(array: T[]): T[] =>
    new Proxy(array, {
      get(target, prop, receiver) {
        if (typeof prop === 'string' && /^\d+$/.test(prop)) work++;
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
  const doc = config.configFile.document;
  const withCounts: SharedConfig = {
    ...config,
    profiles: new CountingMap(config.profiles),
    diagnostics: countElements(config.diagnostics),
    configFile: { ...config.configFile, document: { ...doc, sections: countElements(doc.sections) } },
  };
  return { config: withCounts, work: () => work };
}

/** Work for `run` on the text for n and for 2n: the second must be about twice the first, not 4 or 2^n times. */
function assertLinear(text: (n: number) => string, n: number, run: (c: SharedConfig) => void): void {
  const counts = [n, 2 * n].map((size) => {
    const { config, work } = counted(sharedConfigFromText({ config: text(size), env: ENV }));
    run(config);
    return work();
  });
  const [small, large] = counts as [number, number];
  assert.ok(small > n, `the work counter counts (${small} at n = ${n})`);
  assert.ok(large / small < 2.3, `work at ${2 * n} / work at ${n} = ${large}/${small}, expected about 2`);
}

test('validateConfig on a chain of n hops: linear in n', () => {
  assertLinear(chainText, 200, (c) => {
    const { errors, warnings } = validateConfig(c);
    assert.equal(errors, []);
    assert.equal(warnings, []);
  });
});

test('validateConfig on a chain of 2000 hops ending in a loop: one loop error per profile on it', () => {
  const loop =
    '[profile x]\nrole_arn = arn:aws:iam::123456789012:role/X\nsource_profile = y\n' +
    '[profile y]\nrole_arn = arn:aws:iam::123456789012:role/Y\nsource_profile = x\n' +
    '[profile into]\nrole_arn = arn:aws:iam::123456789012:role/I\nsource_profile = x\n';
  const { errors } = validateConfig(sharedConfigFromText({ config: chainText(2000, loop), env: ENV }));
  assert.equal(
    errors.map((e) => e.detail),
    [
      'source_profile loop: x -> y -> x; point one of them at a profile with credentials',
      'source_profile loop: y -> x -> y; point one of them at a profile with credentials',
    ],
  );
  assertLinear(
    (n) => chainText(n, loop),
    500,
    (c) => {
      assert.is(validateConfig(c).errors.length, 2);
    },
  );
});

test('resolveRoleChain of every profile on a chain walks each hop once', () => {
  assertLinear(chainText, 300, (c) => {
    for (const name of c.profiles.keys()) {
      const hops = resolveRoleChain(name, c);
      assert.is(hops[hops.length - 1]?.profile, 'p0');
    }
  });
  const c = sharedConfigFromText({ config: chainText(3), env: ENV });
  assert.equal(
    resolveRoleChain('p3', c).map((h) => `${h.kind} ${h.profile}`),
    ['assume-role p3', 'assume-role p2', 'assume-role p1', 'source p0'],
  );
});

test('validateProfile of a profile at the end of a long chain: linear in the chain', () => {
  assertLinear(chainText, 300, (c) => {
    assert.equal(validateProfile(c, `p${c.profiles.size - 1}`).errors, []);
  });
});

test('describeProfiles and validateConfig on n profiles of every kind: linear in n', () => {
  assertLinear(mixedText, 1000, (c) => {
    assert.is(validateConfig(c).errors.length, 0);
    const rows = describeProfiles(c);
    assert.is(rows.length, c.profiles.size);
    assert.ok(rows[0]?.warnings.some((w) => w.includes('put the comment on its own line')));
    assert.not.ok(rows[1]?.warnings.some((w) => w.includes('put the comment on its own line')));
  });
});

test.run();
