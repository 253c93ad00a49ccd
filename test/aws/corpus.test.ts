// Every fixture in test/fixtures/aws/corpus: our parse vs the SDK's loader, our local credentials vs fromIni,
// byte-identical round trip, and the expected errors/warnings of each case.
import { fromIni } from '@aws-sdk/credential-providers';
import { loadSharedConfigFiles, loadSsoSessionData, parseKnownFiles } from '@smithy/shared-ini-file-loader';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  classifyProfile,
  configFileView,
  documentRawSections,
  documentToSections,
  loadSharedConfig,
  mergeSectionMaps,
  parseIni,
  resolveEndpointUrl,
  resolveLocalCredentials,
  resolveRoleChain,
  serialize,
  validateConfig,
  type EndpointServiceId,
} from '../../src/aws/index.js';

const corpus = fileURLToPath(new URL('../fixtures/aws/corpus/', import.meta.url));

interface Expectation {
  file: 'config' | 'credentials';
  line: number;
  contains: string;
}
interface Case {
  description: string;
  kind: 'well-formed' | 'malformed';
  sdkParity?: boolean;
  reason?: string;
  fromIni?: string[];
  types?: Record<string, string>;
  chains?: Record<string, string[]>;
  endpoints?: Record<string, Record<string, string | null>>;
  expectErrors?: Expectation[];
  expectWarnings?: Expectation[];
  todoEmulator?: string[];
}

const cases = readdirSync(corpus).sort();
const work = mkdtempSync(join(tmpdir(), 'stormtunnel-corpus-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

function stripSource(creds: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(creds)) if (k !== '$source' && v !== undefined) out[k] = v;
  return out;
}

test('the corpus has at least 40 config/credentials files', () => {
  let files = 0;
  for (const c of cases)
    for (const f of ['config', 'credentials']) if (existsSync(join(corpus, c, f))) files++;
  assert.ok(files >= 40, `only ${files} files`);
  assert.ok(cases.length >= 40);
});

for (const name of cases) {
  const dir = join(corpus, name);
  const meta = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as Case;
  const here = join(work, name);
  const paths = { config: join(here, 'config'), credentials: join(here, 'credentials') };
  const originals: Partial<Record<'config' | 'credentials', string>> = {};
  for (const f of ['config', 'credentials'] as const) {
    if (existsSync(join(dir, f))) originals[f] = readFileSync(join(dir, f), 'utf8');
  }

  test(`${name}: unedited document serializes byte-identical`, () => {
    for (const [f, text] of Object.entries(originals)) {
      assert.is(serialize(parseIni(text, f)), text, `${name}/${f}`);
    }
  });

  test(`${name}: ${meta.description}`, async () => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(here, { recursive: true });
    for (const [f, text] of Object.entries(originals)) {
      const t = text.replaceAll('@@NODE@@', process.execPath).replaceAll('@@DIR@@', dir.replace(/\/$/, ''));
      writeFileSync(paths[f as 'config' | 'credentials'], t);
    }
    const env = { HOME: here, PATH: process.env.PATH };
    const config = await loadSharedConfig({
      env,
      configFile: paths.config,
      credentialsFile: paths.credentials,
    });

    if (meta.sdkParity !== false) {
      const init = { filepath: paths.credentials, configFilepath: paths.config, ignoreCache: true };
      const sdk = await loadSharedConfigFiles(init);
      const ours = {
        configFile: configFileView(documentToSections(config.configFile.document)),
        credentialsFile: documentRawSections(config.credentialsFile.document),
      };
      assert.equal(ours, sdk, 'loadSharedConfigFiles');
      const known = await parseKnownFiles(init);
      assert.equal(mergeSectionMaps(ours.configFile, ours.credentialsFile), known, 'parseKnownFiles');
      for (const [k, values] of Object.entries(known)) {
        if (k.startsWith('sso-session.') || k.startsWith('services.')) continue;
        assert.equal(config.profiles.get(k)?.values, values, `profile ${k}`);
      }
      assert.is(
        config.profiles.size,
        Object.keys(known).filter((k) => !/^(sso-session|services)\./.test(k)).length,
      );
      const sessions = await loadSsoSessionData({ configFilepath: paths.config });
      assert.equal(
        Object.fromEntries([...config.ssoSessions].map(([n, s]) => [n, s.values])),
        sessions,
        'sso sessions',
      );
    } else {
      assert.ok(meta.reason, `${name}: a fixture without SDK parity needs a reason`);
    }

    for (const profile of meta.fromIni ?? []) {
      const sdkCreds = await fromIni({
        profile,
        filepath: paths.credentials,
        configFilepath: paths.config,
        ignoreCache: true,
      })();
      const ours = await resolveLocalCredentials(config, profile, { env: { ...process.env, ...env } });
      assert.equal(stripSource(ours), stripSource(sdkCreds), `fromIni ${profile}`);
    }
    for (const [profile, type] of Object.entries(meta.types ?? {})) {
      assert.is(classifyProfile(profile, config).type, type, `type of ${profile}`);
    }
    for (const [profile, chain] of Object.entries(meta.chains ?? {})) {
      const names: string[] = [];
      for (const h of resolveRoleChain(profile, config))
        if (names[names.length - 1] !== h.profile) names.push(h.profile);
      assert.equal(names, chain, `chain of ${profile}`);
    }
    for (const [profile, services] of Object.entries(meta.endpoints ?? {})) {
      for (const [service, url] of Object.entries(services)) {
        assert.is(
          resolveEndpointUrl(config, service as EndpointServiceId, profile)?.url,
          url ?? undefined,
          `${profile} ${service}`,
        );
      }
    }

    const { errors, warnings } = validateConfig(config);
    const fileOf = (f: string) => basename(f);
    for (const e of meta.expectErrors ?? []) {
      const hit = errors.find(
        (x) => fileOf(x.file) === e.file && x.line === e.line && x.message.includes(e.contains),
      );
      assert.ok(
        hit,
        `expected error ${JSON.stringify(e)}; got ${JSON.stringify(errors.map((x) => x.message))}`,
      );
    }
    for (const w of meta.expectWarnings ?? []) {
      const hit = warnings.find(
        (x) => fileOf(x.file) === w.file && x.line === w.line && x.message.includes(w.contains),
      );
      assert.ok(
        hit,
        `expected warning ${JSON.stringify(w)}; got ${JSON.stringify(warnings.map((x) => `${x.line}: ${x.message}`))}`,
      );
    }
    if (meta.kind === 'well-formed' && !meta.expectErrors) {
      assert.equal(
        errors.map((e) => e.message),
        [],
        'a well-formed fixture has no errors',
      );
    }
    if (meta.kind === 'malformed') assert.ok(errors.length > 0, 'a malformed fixture has errors');
    for (const e of errors) {
      assert.not.match(e.message, /\n/, 'one-line errors');
      assert.not.match(
        e.message,
        /wJalrXUtnFEMI|je7MtGbClwBF|configSecret|IQoJb3JpZ2lu/,
        'no secrets in errors',
      );
    }
  });
}

test.run();
