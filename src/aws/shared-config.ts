// Loads ~/.aws/config and ~/.aws/credentials the way the AWS CLI (botocore) does: profiles from both files,
// credentials-file keys overlaying config-file keys, the key pair taken from one file only, sso-session and
// services sections; and notes section headers that are easy to get wrong.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AwsConfigError } from './errors.js';
import { shortValue } from '../text/shorten.js';
import {
  DEFAULTS_SECTION,
  documentLineNumbers,
  documentRawLineNumbers,
  documentRawSections,
  documentToSections,
  parseIni,
} from './ini.js';
import type {
  ConfigDiagnostic,
  Env,
  FileKind,
  IniDocument,
  LoadedFile,
  NamedSection,
  PartialKeys,
  Profile,
  RegionSource,
  SharedConfig,
  ValueOrigin,
} from './types.js';

export interface LoadSharedConfigOptions {
  /** Environment to read AWS_* variables and HOME from; defaults to process.env. */
  env?: Env;
  /** Explicit path, overriding AWS_CONFIG_FILE. */
  configFile?: string;
  /** Explicit path, overriding AWS_SHARED_CREDENTIALS_FILE. */
  credentialsFile?: string;
}

/** The SDK's home folder rule: HOME, USERPROFILE, HOMEDRIVE+HOMEPATH, then the OS. */
export function homeDir(env: Env = process.env): string {
  if (env.HOME) return env.HOME;
  if (env.USERPROFILE) return env.USERPROFILE;
  if (env.HOMEPATH) return `${env.HOMEDRIVE ?? 'C:\\'}${env.HOMEPATH}`;
  return homedir();
}

function expandHome(path: string, home: string): string {
  return path.startsWith('~/') ? join(home, path.slice(2)) : path;
}

export function configFilePath(env: Env = process.env): string {
  const home = homeDir(env);
  return expandHome(env.AWS_CONFIG_FILE || join(home, '.aws', 'config'), home);
}

export function credentialsFilePath(env: Env = process.env): string {
  const home = homeDir(env);
  return expandHome(env.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials'), home);
}

async function readIniFile(kind: FileKind, path: string, home: string): Promise<LoadedFile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // A missing file is normal (the SDK treats it as empty); anything else the user must fix.
    if (code === 'ENOENT') return { kind, path, exists: false, document: parseIni('', path) };
    const why =
      code === 'EISDIR'
        ? 'it is a folder, not a file'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied; make it readable by your user (chmod 600)'
          : `${code ?? 'read error'}; check that the path is a readable file`;
    throw new AwsConfigError({ file: path, home, detail: `cannot read the ${kind} file: ${why}`, cause: e });
  }
  return { kind, path, exists: true, document: decodeAndParse(bytes, path) };
}

/**
 * Python reads the files as strict UTF-8, so the AWS CLI refuses a file with bytes that are not UTF-8. We say
 * where, and read the rest with replacement characters so the user still sees their profiles.
 */
export function decodeAndParse(bytes: Uint8Array, path: string): IniDocument {
  try {
    return parseIni(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes), path);
  } catch {
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
    const doc = parseIni(text, path);
    const bad = text.indexOf('\ufffd');
    const line = bad === -1 ? 1 : (text.slice(0, bad).match(/\r\n|\n|\r/g)?.length ?? 0) + 1;
    doc.diagnostics.unshift({
      severity: 'error',
      file: path,
      line,
      message:
        'the file is not valid UTF-8; the AWS CLI cannot read this file either; save it as UTF-8 (most editors have an "encoding" menu)',
    });
    return doc;
  }
}

/** Reads both files (missing = empty; unreadable = AwsConfigError naming the file) and builds the model. */
export async function loadSharedConfig(options: LoadSharedConfigOptions = {}): Promise<SharedConfig> {
  const env = options.env ?? process.env;
  const home = homeDir(env);
  const [configFile, credentialsFile] = await Promise.all([
    readIniFile('config', expandHome(options.configFile ?? configFilePath(env), home), home),
    readIniFile('credentials', expandHome(options.credentialsFile ?? credentialsFilePath(env), home), home),
  ]);
  return buildSharedConfig(configFile, credentialsFile, env);
}

/** Builds the model from text, for tests and for `configure` previews. */
export function sharedConfigFromText(input: {
  config?: string;
  credentials?: string;
  env?: Env;
  configPath?: string;
  credentialsPath?: string;
}): SharedConfig {
  const env = input.env ?? {};
  const cfgPath = input.configPath ?? configFilePath(env);
  const credPath = input.credentialsPath ?? credentialsFilePath(env);
  return buildSharedConfig(
    {
      kind: 'config',
      path: cfgPath,
      exists: input.config !== undefined,
      document: parseIni(input.config ?? '', cfgPath),
    },
    {
      kind: 'credentials',
      path: credPath,
      exists: input.credentials !== undefined,
      document: parseIni(input.credentials ?? '', credPath),
    },
    env,
  );
}

function originsOf(lines: Record<string, number> | undefined, file: string): Record<string, ValueOrigin> {
  const out: Record<string, ValueOrigin> = {};
  for (const [k, line] of Object.entries(lines ?? {}))
    Object.defineProperty(out, k, {
      value: { file, line },
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return out;
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function get<T>(map: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

/** Sections under `prefix.` in a config-file map, by name. */
function prefixed<T>(map: Record<string, T>, prefix: string): Map<string, T> {
  const out = new Map<string, T>();
  for (const [key, value] of Object.entries(map))
    if (key.startsWith(prefix)) out.set(key.slice(prefix.length), value);
  return out;
}

const KEY_ID = 'aws_access_key_id';
const SECRET = 'aws_secret_access_key';
// botocore reads the older aws_security_token before aws_session_token.
const TOKENS = ['aws_security_token', 'aws_session_token'];

interface FileValues {
  values: Record<string, string>;
  origins: Record<string, ValueOrigin>;
}

/**
 * botocore's credential providers read the key pair from one file: the credentials file's section when it has
 * aws_access_key_id, else the config file's. The token comes from the same file. A key id without its
 * secret there is PartialCredentialsError, even when the other file has a secret.
 */
function chooseKeyPair(
  config: FileValues,
  credentials: FileValues,
): { from: FileValues | undefined; partial: PartialKeys | undefined } {
  const from = Object.hasOwn(credentials.values, KEY_ID)
    ? credentials
    : Object.hasOwn(config.values, KEY_ID)
      ? config
      : undefined;
  if (!from || Object.hasOwn(from.values, SECRET)) return { from, partial: undefined };
  const other = from === credentials ? config : credentials;
  return {
    from,
    partial: {
      keyId: from.origins[KEY_ID] as ValueOrigin,
      missing: SECRET,
      otherSecret: Object.hasOwn(other.values, SECRET) ? other.origins[SECRET] : undefined,
    },
  };
}

function buildProfile(
  name: string,
  config: FileValues,
  credentials: FileValues,
  headers: ValueOrigin[],
): Profile {
  const values = { ...config.values, ...credentials.values };
  const origins = { ...config.origins, ...credentials.origins };
  const { from, partial } = chooseKeyPair(config, credentials);
  if (from) {
    for (const k of [KEY_ID, SECRET, ...TOKENS]) {
      delete values[k];
      delete origins[k];
    }
    for (const k of [KEY_ID, SECRET]) {
      if (!Object.hasOwn(from.values, k)) continue;
      values[k] = from.values[k] as string;
      origins[k] = from.origins[k] as ValueOrigin;
    }
    const token = TOKENS.find((k) => Object.hasOwn(from.values, k));
    if (token !== undefined) {
      values.aws_session_token = from.values[token] as string;
      origins.aws_session_token = from.origins[token] as ValueOrigin;
    }
  }
  return {
    name,
    values,
    origins,
    headers,
    configValues: { ...config.values },
    credentialsValues: { ...credentials.values },
    ...(partial ? { partialKeys: partial } : {}),
  };
}

export function buildSharedConfig(
  configFile: LoadedFile,
  credentialsFile: LoadedFile,
  env: Env,
): SharedConfig {
  const home = homeDir(env);
  const cfgDoc = configFile.document;
  const credDoc = credentialsFile.document;
  const cfgValues = documentToSections(cfgDoc);
  const cfgLines = documentLineNumbers(cfgDoc);
  const credValues = documentRawSections(credDoc);
  const credLines = documentRawLineNumbers(credDoc);

  // Headers whose keys count: for a config key, every header with the raw name that won it. Indexed once:
  // filtering every section for each profile made a file of 90,000 profiles quadratic.
  const winner = new Map<string, string>();
  for (const s of cfgDoc.sections) if (s.header.key !== undefined) winner.set(s.header.key, s.header.rawName);
  const cfgHeaderIndex = new Map<string, ValueOrigin[]>();
  for (const s of cfgDoc.sections) {
    const key = s.header.key;
    if (key === undefined || s.header.rawName !== winner.get(key)) continue;
    pushTo(cfgHeaderIndex, key, { file: cfgDoc.file, line: s.header.lineNo });
  }
  const credHeaderIndex = new Map<string, ValueOrigin[]>();
  for (const s of credDoc.sections)
    pushTo(credHeaderIndex, s.header.rawName, { file: credDoc.file, line: s.header.lineNo });
  const cfgHeaders = (key: string): ValueOrigin[] => [...(cfgHeaderIndex.get(key) ?? [])];
  const credHeaders = (name: string): ValueOrigin[] => [...(credHeaderIndex.get(name) ?? [])];
  const fileValues = (
    values: Record<string, Record<string, string>>,
    lines: Record<string, Record<string, number>>,
    key: string,
    file: string,
  ): FileValues => ({ values: { ...get(values, key) }, origins: originsOf(get(lines, key), file) });

  const profiles = new Map<string, Profile>();
  const names = [...prefixed(cfgValues, 'profile.').keys(), ...Object.keys(credValues)];
  for (const name of names) {
    if (profiles.has(name)) continue;
    const key = `profile.${name}`;
    profiles.set(
      name,
      buildProfile(
        name,
        fileValues(cfgValues, cfgLines, key, cfgDoc.file),
        fileValues(credValues, credLines, name, credDoc.file),
        [...cfgHeaders(key), ...credHeaders(name)],
      ),
    );
  }
  const named = (prefix: string) => {
    const out = new Map<string, NamedSection>();
    for (const [name, values] of prefixed(cfgValues, prefix)) {
      out.set(name, {
        name,
        values: { ...values },
        origins: originsOf(get(cfgLines, prefix + name), cfgDoc.file),
        headers: cfgHeaders(prefix + name),
      });
    }
    return out;
  };
  const ssoSessions = named('sso-session.');
  const services = named('services.');

  const selectedProfile = env.AWS_PROFILE || 'default';
  const diagnostics: ConfigDiagnostic[] = [
    ...cfgDoc.diagnostics,
    ...credDoc.diagnostics,
    ...sectionNamingDiagnostics(cfgDoc, 'config'),
    ...sectionNamingDiagnostics(credDoc, 'credentials'),
  ];
  if (env.AWS_DEFAULT_PROFILE && !env.AWS_PROFILE && env.AWS_DEFAULT_PROFILE !== selectedProfile) {
    diagnostics.push({
      severity: 'warning',
      file: configFile.path,
      message: `AWS_DEFAULT_PROFILE=${shortValue(env.AWS_DEFAULT_PROFILE)} is read by the AWS CLI but not by the AWS SDK, which uses "${selectedProfile}"; set AWS_PROFILE instead`,
    });
  }
  const config: SharedConfig = {
    env,
    home,
    configFile,
    credentialsFile,
    profiles,
    ssoSessions,
    services,
    selectedProfile,
    selectedProfileSource: env.AWS_PROFILE ? 'AWS_PROFILE' : 'default',
    region: undefined,
    regionSource: undefined,
    diagnostics,
  };
  const region = resolveRegion(config, selectedProfile);
  config.region = region?.region;
  config.regionSource = region?.source;
  return config;
}

/**
 * Region for a profile: AWS_REGION, then AWS_DEFAULT_REGION (the AWS CLI reads it, the SDK does not; we pass
 * the region to SDK clients explicitly so both env vars work), then the profile's `region` (the SDK prefers
 * the credentials file's value for region).
 */
export function resolveRegion(
  config: Pick<SharedConfig, 'env' | 'profiles'>,
  profileName: string,
): { region: string; source: RegionSource } | undefined {
  if (config.env.AWS_REGION) return { region: config.env.AWS_REGION, source: 'AWS_REGION' };
  if (config.env.AWS_DEFAULT_REGION)
    return { region: config.env.AWS_DEFAULT_REGION, source: 'AWS_DEFAULT_REGION' };
  const region = config.profiles.get(profileName)?.values.region;
  return region ? { region, source: 'profile' } : undefined;
}

// Config-file sections the AWS CLI reads for itself, not as profiles.
const CLI_ONLY_CONFIG_SECTIONS = new Set(['plugins', 'preview', 'toplevel', 'cli']);
const PREFIX_RE = /^(profile|sso-session|services)/;

/** Section headers that are easy to get wrong: read differently from how they look, or not at all. */
function sectionNamingDiagnostics(doc: IniDocument, kind: FileKind): ConfigDiagnostic[] {
  const out: ConfigDiagnostic[] = [];
  const warn = (line: number, message: string) =>
    out.push({ severity: 'warning', file: doc.file, line, message });
  const lastFor = new Map<string, { rawName: string; lineNo: number }>();
  for (const s of doc.sections) {
    const h = s.header;
    const raw = shortValue(h.rawName);
    if (h.rawName === DEFAULTS_SECTION) {
      warn(
        h.lineNo,
        `[DEFAULT] is not a profile: the AWS CLI adds its settings to every section of the ${kind} file; write [default] for the default profile`,
      );
      continue;
    }
    const prefix = PREFIX_RE.exec(h.rawName)?.[1];
    if (kind === 'credentials') {
      if (prefix === 'profile')
        warn(
          h.lineNo,
          `the credentials file names profiles without "profile ": the AWS CLI reads [${raw}] as a profile named "${raw}"; write [${shortValue(h.name)}]`,
        );
      else if (prefix !== undefined)
        warn(
          h.lineNo,
          `[${raw}] belongs in the config file; the AWS CLI reads it here as a profile named "${raw}"`,
        );
      continue;
    }
    if (h.key === undefined) {
      warn(
        h.lineNo,
        `the AWS CLI ignores [${raw}]: after "${prefix ?? ''}" it expects one name (quote a name with spaces: [${prefix ?? 'profile'} "my name"]); rename it`,
      );
      continue;
    }
    if (prefix !== undefined && !h.rawName.startsWith(`${prefix} `) && !h.rawName.startsWith(`${prefix}\t`)) {
      warn(h.lineNo, `the AWS CLI reads [${raw}] as [${prefix} ${shortValue(h.name)}]; write it that way`);
    }
    if (prefix === undefined && h.rawName !== 'default' && !CLI_ONLY_CONFIG_SECTIONS.has(h.rawName)) {
      warn(
        h.lineNo,
        `section [${raw}] in the config file is ignored; profiles here are written [profile ${raw}]`,
      );
    }
    const before = lastFor.get(h.key);
    if (before !== undefined && before.rawName !== h.rawName) {
      warn(
        h.lineNo,
        `[${raw}] and [${shortValue(before.rawName)}] (line ${before.lineNo}) are the same ${prefix === 'profile' || h.rawName === 'default' ? 'profile' : 'section'}: the AWS CLI uses only this later one; keep one`,
      );
    }
    lastFor.set(h.key, { rawName: h.rawName, lineNo: h.lineNo });
  }
  return out;
}
