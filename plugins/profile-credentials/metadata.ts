// credential_source = Ec2InstanceMetadata / EcsContainer: asked once with a short timeout, so that on a
// laptop (where neither endpoint exists) the user gets a clear error at once instead of a hang.
import { StormtunnelError } from '../../src/plugin-kit/index.js';
import type { Credentials } from '../../src/plugin-kit/index.js';

export type MetadataSource = 'Ec2InstanceMetadata' | 'EcsContainer';

const WHAT: Record<MetadataSource, string> = {
  Ec2InstanceMetadata: 'EC2 instance metadata service (IMDS)',
  EcsContainer: 'ECS container credentials endpoint',
};

export async function metadataCredentials(
  source: MetadataSource,
  profile: string,
  timeoutMs: number,
  env: Readonly<Record<string, string | undefined>>,
): Promise<Credentials> {
  const hint =
    source === 'Ec2InstanceMetadata'
      ? 'this only works on an EC2 instance with an instance profile; on your own machine use source_profile (SSO or access keys) instead'
      : 'this only works inside an ECS task or container with a task role; on your own machine use source_profile instead';
  if (source === 'Ec2InstanceMetadata' && env.AWS_EC2_METADATA_DISABLED?.toLowerCase() === 'true') {
    throw new StormtunnelError(
      `profile "${profile}" has credential_source = Ec2InstanceMetadata, but instance metadata is disabled here (AWS_EC2_METADATA_DISABLED=true)`,
      { exitCode: 2, hint },
    );
  }
  const { fromContainerMetadata, fromInstanceMetadata } = await import('@aws-sdk/credential-providers');
  const provider =
    source === 'Ec2InstanceMetadata'
      ? fromInstanceMetadata({ timeout: timeoutMs, maxRetries: 0 })
      : fromContainerMetadata({ timeout: timeoutMs, maxRetries: 0 });
  let timer: NodeJS.Timeout | undefined;
  // The SDK makes up to two requests (token, then credentials); bound the whole thing as well.
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs * 3} ms`)), timeoutMs * 3);
  });
  try {
    const c = await Promise.race([provider(), deadline]);
    return {
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}),
      ...(c.expiration ? { expiration: c.expiration } : {}),
      ...(c.accountId ? { accountId: c.accountId } : {}),
      source: source === 'Ec2InstanceMetadata' ? 'instance-metadata' : 'container-metadata',
    };
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new StormtunnelError(
      `profile "${profile}" has credential_source = ${source}, but the ${WHAT[source]} is not reachable from this machine (${why})`,
      { exitCode: 2, cause: err, hint },
    );
  } finally {
    clearTimeout(timer);
  }
}
