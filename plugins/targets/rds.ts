// An RDS instance or Aurora cluster as a remote host: its endpoint address and port, from
// DescribeDBInstances (Endpoint.Address/Port), else DescribeDBClusters (the writer Endpoint and Port). The
// tunnel forwards to that host through the target; an IAM token must be signed for it too (not 127.0.0.1).
import { DescribeDBClustersCommand, DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import type { PluginApi, ConnectDraft } from '../../src/plugin-kit/index.js';
import { TargetResolutionError } from './errors.js';

export interface DatabaseEndpoint {
  kind: 'instance' | 'cluster';
  address: string;
  port: number;
}

/** The AWS error's name, also when recover() wrapped it (RecoveryFailedError keeps it as the cause). */
function isAwsError(err: unknown, name: string): boolean {
  for (let e = err; e instanceof Error; e = e.cause) if (e.name === name) return true;
  return false;
}

export async function resolveRds(
  api: Pick<PluginApi, 'services' | 'recover'>,
  draft: Pick<ConnectDraft, 'tunnel' | 'region' | 'credentials' | 'profile'>,
  identifier: string,
): Promise<DatabaseEndpoint> {
  const rds = await api.services.aws.rds({ region: draft.region, credentials: draft.credentials });
  const op = (operation: string) => ({
    phase: 'connect' as const,
    operation,
    profile: draft.profile,
    action: `rds:${operation}`,
  });
  const fail = (message: string) => new TargetResolutionError(draft.tunnel, `rds:${identifier}: ${message}`);
  try {
    const out = await api.recover(op('DescribeDBInstances'), () =>
      rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier })),
    );
    const db = out.DBInstances?.[0];
    if (!db?.Endpoint?.Address || !db.Endpoint.Port)
      throw fail(
        `DB instance "${identifier}" has no endpoint yet (status ${db?.DBInstanceStatus ?? 'unknown'})`,
      );
    return { kind: 'instance', address: db.Endpoint.Address, port: db.Endpoint.Port };
  } catch (err) {
    if (!isAwsError(err, 'DBInstanceNotFoundFault')) throw err;
  }
  try {
    const out = await api.recover(op('DescribeDBClusters'), () =>
      rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: identifier })),
    );
    const c = out.DBClusters?.[0];
    if (!c?.Endpoint || !c.Port)
      throw fail(
        `Aurora cluster "${identifier}" has no writer endpoint yet (status ${c?.Status ?? 'unknown'})`,
      );
    return { kind: 'cluster', address: c.Endpoint, port: c.Port };
  } catch (err) {
    if (!isAwsError(err, 'DBClusterNotFoundFault')) throw err;
  }
  throw fail(`no RDS DB instance or Aurora cluster "${identifier}" in ${draft.region}; found neither`);
}
