// AWS file problems become usage errors (exit 2) with the file, line and profile already in the message.
import { AwsConfigError } from '../../src/aws/index.js';
import { UsageError } from '../../src/engine/errors.js';

export function asUsageError(err: unknown): unknown {
  return err instanceof AwsConfigError ? new UsageError(err.message, { cause: err }) : err;
}
