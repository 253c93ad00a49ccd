// Loads ~/.aws/config and ~/.aws/credentials the way the AWS SDK for JavaScript does (paths, env vars,
// credentials overlay, sso-session and services sections) and notes where the AWS CLI would differ.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AwsConfigError } from './errors.js';
import {
  configFileView,
  documentLineNumbers,
  documentToSections,
  mergeSectionMaps,
  parseIni,
} from './ini.js';
import type {
  ConfigDiagnostic,
  Env,
  FileKind,
  IniDocument,
  LoadedFile,
  NamedSection,
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
  let text: string;
  try {
    text = await readFile(path, 'utf8');
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
  return { kind, path, exists: true, document: parseIni(text, path) };
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

/** Adds `{ file, line }` for each key to `out` (later files overwrite earlier ones, as their values do). */
function addOrigins(
  out: Record<string, ValueOrigin>,
  lines: Record<string, number> | undefined,
  file: string,
): Record<string, ValueOrigin> {
  if (lines) for (const k of Object.keys(lines)) out[k] = { file, line: lines[k] as number };
  return out;
}

/** What a profile has in a file it is not in; shared (and frozen) rather than one empty object per profile. */
const NO_VALUES: Record<string, string> = Object.freeze({});

function get<T>(map: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

export function buildSharedConfig(
  configFile: LoadedFile,
  credentialsFile: LoadedFile,
  env: Env,
): SharedConfig {
  const home = homeDir(env);
  const cfgDoc = configFile.document;
  const credDoc = credentialsFile.document;
  const cfgRaw = documentToSections(cfgDoc);
  const cfgView = configFileView(cfgRaw);
  const cfgLines = configFileView(documentLineNumbers(cfgDoc));
  const credRaw = documentToSections(credDoc);
  const credLines = documentLineNumbers(credDoc);
  const merged = mergeSectionMaps(cfgView, credRaw);

  const headersByName = new Map<string, ValueOrigin[]>();
  const addHeader = (name: string, origin: ValueOrigin) => {
    const list = headersByName.get(name) ?? [];
    list.push(origin);
    headersByName.set(name, list);
  };
  const hasProfileDefault = cfgDoc.sections.some((s) => s.header.sdkKey === 'profile.default');
  for (const s of cfgDoc.sections) {
    const key = s.header.sdkKey;
    if (key === undefined) continue;
    if (key === 'default' && hasProfileDefault) continue;
    const name = key.startsWith('profile.') ? key.slice('profile.'.length) : key;
    addHeader(name, { file: cfgDoc.file, line: s.header.lineNo });
  }
  for (const s of credDoc.sections) {
    if (s.header.sdkKey !== undefined)
      addHeader(s.header.sdkKey, { file: credDoc.file, line: s.header.lineNo });
  }

  const profiles = new Map<string, Profile>();
  for (const [name, values] of Object.entries(merged)) {
    if (name.startsWith('sso-session.') || name.startsWith('services.')) continue;
    profiles.set(name, {
      name,
      values,
      origins: addOrigins(
        addOrigins({}, get(cfgLines, name), cfgDoc.file),
        get(credLines, name),
        credDoc.file,
      ),
      headers: headersByName.get(name) ?? [],
      // The parsed sections themselves: nothing writes to them after this (90,000 copies cost 2 x 90,000
      // objects in a hostile file).
      configValues: get(cfgView, name) ?? NO_VALUES,
      credentialsValues: get(credRaw, name) ?? NO_VALUES,
    });
  }
  const named = (prefix: string, source: Record<string, Record<string, string>>) => {
    const out = new Map<string, NamedSection>();
    for (const [key, values] of Object.entries(source)) {
      if (!key.startsWith(prefix)) continue;
      const name = key.slice(prefix.length);
      out.set(name, {
        name,
        values: { ...values },
        origins: addOrigins({}, get(cfgLines, key), cfgDoc.file),
        headers: headersByName.get(key) ?? [],
      });
    }
    return out;
  };
  // loadSsoSessionData reads the raw parse; the endpoint resolver reads the config view: same keys here.
  const ssoSessions = named('sso-session.', cfgRaw);
  const services = named('services.', cfgView);

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
      message: `AWS_DEFAULT_PROFILE=${env.AWS_DEFAULT_PROFILE} is read by the AWS CLI but not by the AWS SDK, which uses "${selectedProfile}"; set AWS_PROFILE instead`,
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

const CLI_ONLY_CONFIG_SECTIONS = new Set(['plugins', 'preview', 'toplevel']);

/** Section headers that the SDK and the AWS CLI read differently, or that neither reads where written. */
function sectionNamingDiagnostics(doc: IniDocument, kind: FileKind): ConfigDiagnostic[] {
  const out: ConfigDiagnostic[] = [];
  const warn = (line: number, message: string) =>
    out.push({ severity: 'warning', file: doc.file, line, message });
  const profileDefault = doc.sections.find((s) => s.header.sdkKey === 'profile.default');
  for (const s of doc.sections) {
    const h = s.header;
    const raw = h.rawName;
    const looksPrefixed = /^(profile|sso-session|services)\s/.exec(raw);
    if (s.entries.length === 0 && s.subSectionStarts.length === 0 && h.sdkKey !== undefined) {
      warn(
        h.lineNo,
        `section [${raw}] has no settings, so the AWS SDK does not see it; add settings or remove it`,
      );
    }
    if (h.sdkKey === undefined) {
      if (looksPrefixed && kind === 'config') {
        warn(
          h.lineNo,
          `the AWS SDK ignores [${raw}] (names may use only letters, digits and - _ @ + . % : / after one space) while the AWS CLI reads it; rename it`,
        );
      } else if (raw === '') {
        warn(h.lineNo, 'empty section header []: its settings are ignored; name the section');
      } else {
        warn(h.lineNo, `the AWS SDK ignores section [${raw}] and its settings; rename it or remove it`);
      }
      continue;
    }
    if (kind === 'config') {
      if (h.prefix === undefined && h.sdkKey !== 'default') {
        if (looksPrefixed) {
          warn(
            h.lineNo,
            `the AWS SDK ignores [${raw}] (names may use only letters, digits and - _ @ + . % : / after one space) while the AWS CLI reads it; rename it`,
          );
        } else if (/^(profile|sso-session|services)\./.test(h.sdkKey)) {
          warn(
            h.lineNo,
            `the AWS SDK reads [${raw}] as [${raw.replace('.', ' ')}] but the AWS CLI ignores it; write [${raw.replace('.', ' ')}]`,
          );
        } else if (!CLI_ONLY_CONFIG_SECTIONS.has(h.sdkKey)) {
          warn(
            h.lineNo,
            `section [${raw}] in the config file is ignored; profiles here are written [profile ${raw}]`,
          );
        }
      }
      if (h.sdkKey === 'default' && profileDefault) {
        warn(
          h.lineNo,
          `[default] is ignored by the AWS SDK because [profile default] exists (line ${profileDefault.header.lineNo}); the AWS CLI uses the later one; keep only [default]`,
        );
      }
    } else {
      if (h.prefix === 'profile' || looksPrefixed?.[1] === 'profile') {
        warn(
          h.lineNo,
          `the credentials file names profiles without "profile ": the AWS SDK reads [${raw}] as profile "${h.sdkKey}" and the AWS CLI as "${raw}"; write [${h.name}]`,
        );
      } else if (h.prefix !== undefined) {
        warn(h.lineNo, `[${raw}] belongs in the config file; the credentials file holds only profiles`);
      }
    }
  }
  return out;
}
