// What a tunnel's target string means, for `up` and `check` alike: the built-in plugins start sessions to
// instance and managed-node ids; a `tag:Key=Value` selector needs a plugin that resolves it in beforeConnect.
import { UsageError } from './errors.js';

const INSTANCE_ID = /^(i-[0-9a-f]{8,17}|mi-[0-9a-f]{17})$/;

export function isInstanceId(target: string): boolean {
  return INSTANCE_ID.test(target);
}

/** The error for a target still not an instance id after every beforeConnect tap ran (exit 2). */
export function unresolvedTargetError(tunnel: string, target: string): UsageError {
  const what = target.startsWith('tag:') ? `the tag selector ${target}` : `"${target}"`;
  return new UsageError(
    `tunnel "${tunnel}": target ${what} is not an instance id, and no plugin resolved it to one`,
    {
      hint: 'the built-in plugins take instance ids (i-0123456789abcdef0): use one, or add a plugin that resolves tag: targets in beforeConnect (examples/name-tag-guard)',
    },
  );
}
