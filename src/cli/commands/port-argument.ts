// A port number given on the command line (`ssh-proxy`, `forward`): one message for every command.
import { UsageError } from '../../engine/errors.js';

/** 1-65535, or 0 when `allowAny` (the system picks a free port). */
export function parsePortArgument(what: string, value: string, allowAny = false): number {
  const n = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  const min = allowAny ? 0 : 1;
  if (!Number.isInteger(n) || n < min || n > 65535) {
    throw new UsageError(`${what}: expected a port number ${min}-65535, got "${value}"`, {
      hint: allowAny ? 'use 0 (or leave it out) for any free port' : 'e.g. 22 for sshd',
    });
  }
  return n;
}
