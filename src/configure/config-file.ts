// Reading and replacing ~/.aws/config for `configure`: a file we cannot read exactly is refused (with the
// line), never rewritten; a write is locked, checked against concurrent edits, preceded by a backup and done
// through a temp file and rename, so the old or the new file is on disk at every moment.
import { readFile, realpath, stat } from 'node:fs/promises';
import { AwsConfigError, parseIni, withFileLock, writeFileAtomic } from '../aws/index.js';
import type { IniDocument } from '../aws/index.js';
import { StormtunnelError, UsageError } from '../engine/errors.js';
import type { ConfigEditPlan, ConfigWriteResult } from './types.js';

/** The config file cannot be edited safely (unreadable, or a line the AWS SDK or CLI would misread): exit 2. */
export class ConfigNotEditableError extends UsageError {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

function refuse(e: AwsConfigError): ConfigNotEditableError {
  return new ConfigNotEditableError(e.file, e.line, e.message);
}

export interface AwsConfigText {
  /** The path after following symlinks (a dotfiles link stays a link; its target is edited). */
  file: string;
  exists: boolean;
  text: string;
  doc: IniDocument;
}

async function resolveTarget(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return path;
    throw e;
  }
}

/** Reads and parses the config file; throws ConfigNotEditableError (exit 2, with the line) when it is not safe to edit. */
export async function readAwsConfigForEdit(path: string, home?: string): Promise<AwsConfigText> {
  const file = await resolveTarget(path);
  let text = '';
  let exists = true;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') exists = false;
    else
      throw refuse(
        new AwsConfigError({
          file: path,
          ...(home ? { home } : {}),
          detail: `cannot read the config file (${code ?? 'read error'}); check that it is a readable file`,
        }),
      );
  }
  const doc = parseIni(text, path);
  assertEditable(doc, home);
  return { file, exists, text, doc };
}

/** Refuses a document the AWS SDK or CLI would read differently from what we would write back. */
export function assertEditable(doc: IniDocument, home?: string): void {
  const error = doc.diagnostics.find((d) => d.severity === 'error');
  if (!error) return;
  throw refuse(
    new AwsConfigError({
      file: doc.file,
      ...(error.line !== undefined ? { line: error.line } : {}),
      ...(home ? { home } : {}),
      detail: `${error.message}; the file was not changed (fix this line, then run the command again)`,
    }),
  );
}

export function planEdit(current: AwsConfigText, after: string): ConfigEditPlan {
  return {
    file: current.file,
    exists: current.exists,
    before: current.text,
    after,
    changed: after !== current.text,
  };
}

/** Where the copy of the previous file goes: next to it, a name no AWS tool reads. */
export function backupPath(file: string): string {
  return `${file}.stormtunnel.bak`;
}

/**
 * Writes the planned text. Under a lock next to the file: re-reads it and refuses when it changed since it was
 * read (another editor), copies it to `<file>.stormtunnel.bak` (unless `backup: false`), then replaces it
 * atomically with the same mode.
 */
export async function writeAwsConfig(
  plan: ConfigEditPlan,
  options: { backup?: boolean } = {},
): Promise<ConfigWriteResult> {
  if (!plan.changed) return { file: plan.file, backup: undefined };
  return withFileLock(`${plan.file}.stormtunnel.lock`, async () => {
    let now: string | undefined;
    try {
      now = await readFile(plan.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if ((now ?? '') !== plan.before || (now !== undefined) !== plan.exists) {
      throw new StormtunnelError(
        `${plan.file} changed while stormtunnel was editing it; nothing was written`,
        {
          exitCode: 1,
          hint: 'run the command again',
        },
      );
    }
    let mode = 0o600;
    let backup: string | undefined;
    if (now !== undefined) mode = (await stat(plan.file)).mode & 0o777;
    // A second write in one command keeps the first backup: it holds the file as the user had it.
    if (now !== undefined && options.backup !== false) {
      backup = backupPath(plan.file);
      // Written to a temp name first, so a crash never leaves a half backup in place of a good one.
      await writeFileAtomic(backup, now, { mode });
    }
    await writeFileAtomic(plan.file, plan.after, { mode });
    return { file: plan.file, backup };
  });
}
