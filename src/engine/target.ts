// What a tunnel's target string means, for `up` and `check` alike: Session Manager starts sessions to instance
// and managed-node ids and to ECS containers (`ecs:<cluster>_<taskId>_<runtimeId>`); anything else (a Name, a
// `tag:` selector, `ecs:CLUSTER/SERVICE`) and an `rds:` remote host must be resolved by a resolveTarget plugin
// (the built-in `targets`) or a beforeConnect tap.
import { UsageError } from './errors.js';

const SESSION_TARGET = /^(i-[0-9a-f]{8,17}|mi-[0-9a-f]{17}|ecs:[A-Za-z0-9-]+_[0-9a-f]{32}_\S+)$/;

/** A target Session Manager takes as it is. */
export function isSessionTarget(target: string): boolean {
  return SESSION_TARGET.test(target);
}

/** A remote host that names a resource (`rds:IDENTIFIER`) rather than a host. */
export function isSymbolicHost(host: string | undefined): boolean {
  return host?.startsWith('rds:') ?? false;
}

/** The error for a target still not a session target after resolveTarget and every beforeConnect tap (exit 2). */
export function unresolvedTargetError(tunnel: string, target: string): UsageError {
  const what = target.startsWith('tag:') ? `the tag selector ${target}` : `"${target}"`;
  return new UsageError(
    `tunnel "${tunnel}": target ${what} is not an instance id, and no plugin resolved it to one`,
    {
      hint: 'the built-in targets plugin resolves Names, tag: selectors and ecs: targets: keep it in `plugins` (builtinPlugins()), or use an instance id (i-0123456789abcdef0)',
    },
  );
}

/** The error for an `rds:` remote host (or a port left to the database) that nothing resolved (exit 2). */
export function unresolvedHostError(tunnel: string, host: string | undefined): UsageError {
  return new UsageError(
    `tunnel "${tunnel}": remoteHost ${host ? `"${host}"` : '(none)'} and its port were not resolved by any plugin`,
    {
      hint: 'the built-in targets plugin resolves rds: hosts: keep it in `plugins` (builtinPlugins()), or give remoteHost and remotePort',
    },
  );
}
