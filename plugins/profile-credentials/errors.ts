// AWS file problems become usage errors (exit 2) with the file, line and profile already in the message.
import { AwsConfigError, UsageError } from '../../src/plugin-kit/index.js';

export function asUsageError(err: unknown): unknown {
  return err instanceof AwsConfigError ? new UsageError(err.message, { cause: err }) : err;
}
