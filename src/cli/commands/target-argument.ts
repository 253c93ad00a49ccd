// A target or remote host given on the command line (`forward`, `ssh-proxy`): accepted and refused by the
// config's own patterns, in the config's words, so a command line and a config file never disagree.
import { REMOTE_HOST, REMOTE_HOST_WORDS, TARGET, TARGET_WORDS } from '../../config/schema.js';
import { UsageError } from '../../engine/errors.js';

/** TARGET as a tunnel's `target` takes it; `alsoTunnelName` when the command also takes a config tunnel's name. */
export function parseTargetArgument(value: string, alsoTunnelName = false): string {
  if (!TARGET.test(value)) {
    throw new UsageError(`TARGET: "${value}" is not a target`, {
      hint: `pass ${TARGET_WORDS}${alsoTunnelName ? ', or the name of a tunnel of your stormtunnel config' : ''}`,
    });
  }
  return value;
}

/** --remote-host as a tunnel's `remoteHost` takes it. */
export function parseRemoteHostArgument(value: string): string {
  if (!REMOTE_HOST.test(value)) {
    throw new UsageError(`--remote-host: "${value}" is not ${REMOTE_HOST_WORDS}`, {
      hint: 'e.g. db.internal, 10.0.1.20 or rds:orders',
    });
  }
  return value;
}
