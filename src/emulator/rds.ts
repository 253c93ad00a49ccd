// RDS (awsQuery, form POST `Action=DescribeDBInstances|DescribeDBClusters&Version=2014-10-31`, SigV4 `rds`,
// XML wrapped in `<XxxResult>`): the endpoints of the state's `databases`. Instances answer with
// `Endpoint/{Address,Port}`, clusters with the writer `Endpoint` (a string) and `Port`. Endpoint names lead,
// inside the emulated VPC, to each database's `localAddress` (`vpcAddress`, used by the agent's dial).
import type { Emu } from './context.js';
import { acceptFormRequest } from './form-request.js';
import { sendXml, xmlEscape, type Exchange } from './http.js';
import { deniedMessage, isDenied, visibleTo } from './scope.js';
import { QUERY_SIGNATURE_ERRORS } from './sigv4.js';
import type { EmulatorState } from './state.js';

const NS = 'http://rds.amazonaws.com/doc/2014-10-31/';
type Database = EmulatorState['databases'][number];

function rdsError(ex: Exchange, status: number, code: string, message: string): void {
  ex.errorCode = code;
  sendXml(
    ex,
    status,
    `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${xmlEscape(code)}</Code>` +
      `<Message>${xmlEscape(message)}</Message></Error><RequestId>${ex.requestId}</RequestId></ErrorResponse>\n`,
  );
}

/** The endpoint name AWS gives a database: `<id>.<hash>.<region>.rds.amazonaws.com` (`cluster-` for clusters). */
export function endpointAddress(d: Database): string {
  return `${d.identifier}.${d.kind === 'cluster' ? 'cluster-' : ''}c0emulator01.${d.region}.rds.amazonaws.com`;
}

/** Where a host name leads inside the emulated VPC: a database endpoint to its localAddress, others as given. */
export function vpcAddress(emu: Emu, host: string): string {
  const db = emu.store.state.databases.find((d) => endpointAddress(d) === host.toLowerCase());
  return db ? db.localAddress : host;
}

export async function handleRds(emu: Emu, ex: Exchange): Promise<void> {
  const request = await acceptFormRequest(emu, ex, 'rds', QUERY_SIGNATURE_ERRORS, rdsError);
  if (!request) return;
  const { form, action, caller, region } = request;
  if (form.get('Version') !== '2014-10-31' || !['DescribeDBInstances', 'DescribeDBClusters'].includes(action))
    return rdsError(
      ex,
      400,
      'InvalidAction',
      `Could not find operation ${action} for version ${form.get('Version') ?? 'NO_VERSION_SPECIFIED'}`,
    );
  const rdsAction = `rds:${action}`;
  if (isDenied(caller, rdsAction)) return rdsError(ex, 403, 'AccessDenied', deniedMessage(caller, rdsAction));
  const kind = action === 'DescribeDBInstances' ? 'instance' : 'cluster';
  const idKey = kind === 'instance' ? 'DBInstanceIdentifier' : 'DBClusterIdentifier';
  const wanted = form.get(idKey)?.split(':').pop();
  if (wanted) ex.params.identifier = wanted;
  const all = visibleTo(emu, caller, region, emu.store.state.databases).filter(
    (d) => d.kind === kind && (!wanted || d.identifier === wanted.toLowerCase() || d.identifier === wanted),
  );
  if (wanted && !all.length) {
    return kind === 'instance'
      ? rdsError(ex, 404, 'DBInstanceNotFound', `DBInstance ${wanted} not found.`)
      : rdsError(ex, 404, 'DBClusterNotFoundFault', `DBCluster ${wanted} not found.`);
  }
  const account = caller.principal.accountId;
  const items = all
    .map((d) => (kind === 'instance' ? instanceXml(d, account) : clusterXml(d, account)))
    .join('');
  const list = kind === 'instance' ? 'DBInstances' : 'DBClusters';
  sendXml(
    ex,
    200,
    `<${action}Response xmlns="${NS}"><${action}Result><${list}>${items}</${list}></${action}Result>` +
      `<ResponseMetadata><RequestId>${ex.requestId}</RequestId></ResponseMetadata></${action}Response>\n`,
  );
}

function instanceXml(d: Database, account: string): string {
  const endpoint =
    d.status === 'creating'
      ? ''
      : `<Endpoint><Address>${endpointAddress(d)}</Address><Port>${d.port}</Port></Endpoint>`;
  return (
    `<DBInstance><DBInstanceIdentifier>${xmlEscape(d.identifier)}</DBInstanceIdentifier>` +
    `<DBInstanceArn>arn:aws:rds:${d.region}:${account}:db:${xmlEscape(d.identifier)}</DBInstanceArn>` +
    `<Engine>${xmlEscape(d.engine)}</Engine><DBInstanceStatus>${xmlEscape(d.status)}</DBInstanceStatus>` +
    `${endpoint}<IAMDatabaseAuthenticationEnabled>${d.iamAuth}</IAMDatabaseAuthenticationEnabled>` +
    `<DbiResourceId>db-${d.identifier.toUpperCase().replace(/-/g, '')}</DbiResourceId></DBInstance>`
  );
}

function clusterXml(d: Database, account: string): string {
  return (
    `<DBCluster><DBClusterIdentifier>${xmlEscape(d.identifier)}</DBClusterIdentifier>` +
    `<DBClusterArn>arn:aws:rds:${d.region}:${account}:cluster:${xmlEscape(d.identifier)}</DBClusterArn>` +
    `<Engine>${xmlEscape(d.engine)}</Engine><Status>${xmlEscape(d.status)}</Status>` +
    `<Endpoint>${endpointAddress(d)}</Endpoint>` +
    `<ReaderEndpoint>${endpointAddress(d).replace('.cluster-', '.cluster-ro-')}</ReaderEndpoint>` +
    `<Port>${d.port}</Port><IAMDatabaseAuthenticationEnabled>${d.iamAuth}</IAMDatabaseAuthenticationEnabled>` +
    `<DbClusterResourceId>cluster-${d.identifier.toUpperCase().replace(/-/g, '')}</DbClusterResourceId></DBCluster>`
  );
}
