// Differential test: for every fixture in test/fixtures/aws/corpus and test/fixtures/aws/botocore, what we read
// from each file (profiles, sso-sessions, values; or that the file cannot be read) equals what the AWS CLI's
// own parser (botocore, run once for all files) reads, and static keys resolve to the same credentials or the
// same PartialCredentialsError. Without botocore the comparison skips (it fails with CI=true).
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  classifyProfile,
  documentRawSections,
  documentToSections,
  loadSharedConfig,
  resolveLocalCredentials,
  type IniDocument,
  type SharedConfig,
} from '../../src/aws/index.js';
import {
  botocoreMissing,
  botocoreViews,
  type BotocoreAnswer,
  type BotocoreFileView,
} from '../helpers/botocore.js';
import { testIf } from '../helpers/system.js';

const roots = ['corpus', 'botocore'].map((d) =>
  fileURLToPath(new URL(`../fixtures/aws/${d}/`, import.meta.url)),
);
const work = mkdtempSync(join(tmpdir(), 'stormtunnel-botocore-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

interface Fixture {
  id: string;
  dir: string;
  paths: Partial<Record<'config' | 'credentials', string>>;
  /** From case.json in the botocore corpus: whether the AWS CLI reads every file of the case. */
  awsCli: 'reads' | 'refuses' | undefined;
}

const fixtures: Fixture[] = [];
for (const root of roots) {
  for (const name of readdirSync(root).sort()) {
    const dir = join(root, name);
    const id = `${root.endsWith('botocore/') ? 'botocore' : 'corpus'}/${name}`;
    const here = join(work, id);
    mkdirSync(here, { recursive: true });
    const paths: Fixture['paths'] = {};
    for (const f of ['config', 'credentials'] as const) {
      if (!existsSync(join(dir, f))) continue;
      const bytes = readFileSync(join(dir, f));
      const text = bytes.toString('latin1');
      // Substitute placeholders without decoding: some fixtures are deliberately not UTF-8.
      const out = text.replaceAll('@@NODE@@', process.execPath).replaceAll('@@DIR@@', dir.replace(/\/$/, ''));
      writeFileSync(join(here, f), out === text ? bytes : Buffer.from(out, 'latin1'));
      paths[f] = join(here, f);
    }
    const meta = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as { awsCli?: 'reads' | 'refuses' };
    fixtures.push({ id, dir, paths, awsCli: meta.awsCli });
  }
}

/** Errors that make the AWS CLI refuse the file: the document's own (syntax), not profile checks. */
function refuses(doc: IniDocument): boolean {
  return doc.diagnostics.some((d) => d.severity === 'error');
}

function ourConfigView(doc: IniDocument): BotocoreFileView {
  if (refuses(doc)) return { error: 'refused' };
  const profiles: Record<string, Record<string, string>> = {};
  const sessions: Record<string, Record<string, string>> = {};
  for (const [key, values] of Object.entries(documentToSections(doc))) {
    // defineProperty: a profile may be named __proto__.
    const put = (to: Record<string, unknown>, name: string) =>
      Object.defineProperty(to, name, { value: values, enumerable: true });
    if (key.startsWith('profile.')) put(profiles, key.slice('profile.'.length));
    else if (key.startsWith('sso-session.')) put(sessions, key.slice('sso-session.'.length));
  }
  return { profiles, sso_sessions: sessions };
}

function ourCredentialsView(doc: IniDocument): BotocoreFileView {
  if (refuses(doc)) return { error: 'refused' };
  return { profiles: documentRawSections(doc), sso_sessions: {} };
}

/** JSON with sorted keys: section names such as `constructor` make structural equality unreliable. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : x,
  );
}

/** Any botocore error class is "refused" on our side (we give our own one-line message instead). */
function normalize(v: BotocoreFileView | null): BotocoreFileView | null {
  return v && 'error' in v ? { error: 'refused' } : v;
}

const loaded = new Map<string, SharedConfig>();
async function ours(f: Fixture): Promise<SharedConfig> {
  let c = loaded.get(f.id);
  if (!c) {
    c = await loadSharedConfig({
      env: { HOME: join(work, f.id) },
      configFile: f.paths.config ?? join(work, f.id, 'no-config'),
      credentialsFile: f.paths.credentials ?? join(work, f.id, 'no-credentials'),
    });
    loaded.set(f.id, c);
  }
  return c;
}

/** Profiles whose credentials are static keys (or broken ones): resolving them needs no AWS call. */
function staticProfiles(config: SharedConfig): string[] {
  const other = ['role_arn', 'credential_process', 'web_identity_token_file', 'sso_session', 'sso_start_url'];
  return [...config.profiles.values()]
    .filter((p) => {
      const all = { ...p.configValues, ...p.credentialsValues };
      return 'aws_access_key_id' in all && !other.some((k) => k in all);
    })
    .map((p) => p.name);
}

test('the corpora hold at least 40 files the AWS CLI reads or refuses', () => {
  const files = fixtures.reduce((n, f) => n + Object.keys(f.paths).length, 0);
  assert.ok(files >= 40, `only ${files} files`);
});

for (const f of fixtures.filter((x) => x.awsCli !== undefined)) {
  test(`${f.id}: we ${f.awsCli === 'reads' ? 'read' : 'refuse'} it, as its case.json says the AWS CLI does`, async () => {
    const c = await ours(f);
    const refused = refuses(c.configFile.document) || refuses(c.credentialsFile.document);
    assert.is(refused ? 'refuses' : 'reads', f.awsCli);
  });
}

const missing = botocoreMissing();
const withBotocore = testIf(test, missing === undefined, missing ?? '');
let answers: Record<string, BotocoreAnswer> | undefined;
async function botocore(): Promise<Record<string, BotocoreAnswer>> {
  if (!answers) {
    const requests = [];
    for (const f of fixtures) {
      const c = await ours(f);
      requests.push({
        id: f.id,
        ...(f.paths.config ? { config: f.paths.config } : {}),
        ...(f.paths.credentials ? { credentials: f.paths.credentials } : {}),
        resolve:
          refuses(c.configFile.document) || refuses(c.credentialsFile.document) ? [] : staticProfiles(c),
      });
    }
    answers = await botocoreViews(requests, work);
  }
  return answers;
}

for (const f of fixtures) {
  withBotocore(`${f.id}: same profiles, sessions and values as botocore`, async () => {
    const theirs = (await botocore())[f.id] as BotocoreAnswer;
    const c = await ours(f);
    if (f.paths.config)
      assert.is(
        canonical(ourConfigView(c.configFile.document)),
        canonical(normalize(theirs.config)),
        'config',
      );
    if (f.paths.credentials)
      assert.is(
        canonical(ourCredentialsView(c.credentialsFile.document)),
        canonical(normalize(theirs.credentials)),
        'credentials',
      );
    if (f.awsCli !== undefined) {
      const refused = [theirs.config, theirs.credentials].some((v) => v !== null && 'error' in v);
      assert.is(refused ? 'refuses' : 'reads', f.awsCli, 'case.json says what botocore does');
    }
    for (const [name, r] of Object.entries(theirs.resolved)) {
      if (r !== null && 'error' in r) {
        assert.is(r.error, 'PartialCredentialsError', `${name}: botocore's error`);
        const t = classifyProfile(name, c);
        assert.ok(t.type === 'incomplete' && c.profiles.get(name)?.partialKeys, `${name}: partial keys`);
        continue;
      }
      const creds = await resolveLocalCredentials(c, name);
      assert.equal(
        r && { access_key: r.access_key, secret_key: r.secret_key, token: r.token },
        {
          access_key: creds.accessKeyId,
          secret_key: creds.secretAccessKey,
          token: creds.sessionToken ?? null,
        },
        `${name}: credentials`,
      );
    }
  });
}

test.run();
