// EC2 (protocol `ec2`: form POST `Action=DescribeInstances&Version=2016-11-15`, SigV4 `ec2`, XML reply with
// no Result wrapper). DescribeInstances with `Filter.N.Name` / `Filter.N.Value.M` (values of one filter ORed,
// filters ANDed, names and values case-sensitive), `InstanceId.N`, `MaxResults` (5-1000, not with
// InstanceId.N) and `NextToken`. Element order of the reply is not guaranteed by AWS; ours is seed order.
import type { Emu } from './context.js';
import { acceptFormRequest } from './form-request.js';
import { sendXml, xmlEscape, type Exchange } from './http.js';
import { deniedMessage, isDenied, visibleTo } from './scope.js';
import { EC2_SIGNATURE_ERRORS } from './sigv4.js';
import type { EmulatorState } from './state.js';

const NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
type Instance = EmulatorState['instances'][number];

/** Instance state codes (low byte): the ones DescribeInstances reports with each name. */
const STATE_CODES: Record<Instance['state'], number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

/** EC2's error document: `<Response><Errors><Error>` with `RequestID` (capital ID, unlike the query services). */
export function ec2Error(ex: Exchange, status: number, code: string, message: string): void {
  ex.errorCode = code;
  sendXml(
    ex,
    status,
    `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${xmlEscape(code)}</Code>` +
      `<Message>${xmlEscape(message)}</Message></Error></Errors><RequestID>${ex.requestId}</RequestID></Response>\n`,
  );
}

/** Every tag of an instance as EC2 shows it: Name from `name`, the Auto Scaling group's tag, the rest. */
export function instanceTags(i: Instance): Record<string, string> {
  return {
    ...(i.name ? { Name: i.name } : {}),
    ...(i.autoScalingGroup ? { 'aws:autoscaling:groupName': i.autoScalingGroup } : {}),
    ...i.tags,
  };
}

export async function handleEc2(emu: Emu, ex: Exchange): Promise<void> {
  const request = await acceptFormRequest(emu, ex, 'ec2', EC2_SIGNATURE_ERRORS, ec2Error);
  if (!request) return;
  const { form, action, caller, region } = request;
  if (form.get('Version') !== '2016-11-15' || action !== 'DescribeInstances')
    return ec2Error(ex, 400, 'InvalidAction', `The action ${action} is not valid for this web service.`);
  if (isDenied(caller, 'ec2:DescribeInstances'))
    return ec2Error(
      ex,
      403,
      'UnauthorizedOperation',
      `You are not authorized to perform this operation. ${deniedMessage(caller, 'ec2:DescribeInstances')}`,
    );

  const filters = listParam(form, 'Filter').map((n) => ({
    name: form.get(`Filter.${n}.Name`) ?? '',
    values: listParam(form, `Filter.${n}.Value`).map((m) => form.get(`Filter.${n}.Value.${m}`) ?? ''),
  }));
  const ids = listParam(form, 'InstanceId').map((n) => form.get(`InstanceId.${n}`) ?? '');
  ex.params.filters = filters.map((f) => `${f.name}=${f.values.join('|')}`).join(',');
  const maxRaw = form.get('MaxResults');
  if (maxRaw !== null && ids.length)
    return ec2Error(
      ex,
      400,
      'InvalidParameterCombination',
      'The parameter instancesSet cannot be used with the parameter maxResults',
    );
  const max = maxRaw === null ? 1000 : Number(maxRaw);
  if (!Number.isInteger(max) || max < 5 || max > 1000)
    return ec2Error(
      ex,
      400,
      'InvalidParameterValue',
      `Value (${maxRaw}) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`,
    );
  for (const f of filters) {
    if (!knownFilter(f.name))
      return ec2Error(ex, 400, 'InvalidParameterValue', `The filter '${f.name}' is invalid`);
  }
  const visible = visibleTo(emu, caller, region, emu.store.state.instances);
  // Unknown ids are an error (others' instances are omitted silently only in filtered listings).
  const unknown = ids.filter((id) => !visible.some((i) => i.instanceId === id));
  if (unknown.length)
    return ec2Error(
      ex,
      400,
      'InvalidInstanceID.NotFound',
      `The instance ID${unknown.length > 1 ? 's' : ''} '${unknown.join(', ')}' do${unknown.length > 1 ? '' : 'es'} not exist`,
    );
  const all = visible.filter(
    (i) => (!ids.length || ids.includes(i.instanceId)) && filters.every((f) => matches(i, f)),
  );
  let offset = 0;
  const token = form.get('NextToken');
  if (token) {
    const parsed = /^o:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
    if (!parsed || Number(parsed[1]) > all.length)
      return ec2Error(ex, 400, 'InvalidParameterValue', 'The token is invalid');
    offset = Number(parsed[1]);
  }
  const page = all.slice(offset, offset + max);
  const next =
    offset + page.length < all.length ? Buffer.from(`o:${offset + page.length}`).toString('base64url') : '';
  // One reservation per instance: replacements by an Auto Scaling group are separate launches.
  const owner = caller.principal.accountId;
  const reservations = page.map((i) => reservationXml(i, owner)).join('');
  sendXml(
    ex,
    200,
    `<?xml version="1.0" encoding="UTF-8"?>\n<DescribeInstancesResponse xmlns="${NS}"><requestId>${ex.requestId}</requestId>` +
      `<reservationSet>${reservations}</reservationSet>${next ? `<nextToken>${next}</nextToken>` : ''}</DescribeInstancesResponse>\n`,
  );
}

/** The N of `Prefix.N.*` / `Prefix.N` keys, in order (lists are `.N`-indexed from 1). */
function listParam(form: URLSearchParams, prefix: string): number[] {
  const ns = new Set<number>();
  const re = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(\\d+)(?:\\.|$)`);
  for (const k of form.keys()) {
    const m = re.exec(k);
    if (m) ns.add(Number(m[1]));
  }
  return [...ns].sort((a, b) => a - b);
}

const FILTERS = new Set(['instance-state-name', 'instance-id', 'tag-key', 'private-dns-name']);

function knownFilter(name: string): boolean {
  return FILTERS.has(name) || /^tag:.+/.test(name);
}

function matches(i: Instance, f: { name: string; values: string[] }): boolean {
  const tags = instanceTags(i);
  if (f.name.startsWith('tag:')) {
    const v = tags[f.name.slice(4)];
    return v !== undefined && f.values.includes(v);
  }
  switch (f.name) {
    case 'instance-state-name':
      return f.values.includes(i.state);
    case 'instance-id':
      return f.values.includes(i.instanceId);
    case 'tag-key':
      return f.values.some((k) => k in tags);
    case 'private-dns-name':
      return f.values.includes(privateDnsName(i));
  }
  return false;
}

function privateDnsName(i: Instance): string {
  return i.state === 'running' ? `ip-${i.ipAddress.replace(/\./g, '-')}.ec2.internal` : '';
}

function reservationXml(i: Instance, owner: string): string {
  const tags = Object.entries(instanceTags(i))
    .map(([k, v]) => `<item><key>${xmlEscape(k)}</key><value>${xmlEscape(v)}</value></item>`)
    .join('');
  const dns = privateDnsName(i);
  return (
    `<item><reservationId>r-${i.instanceId.slice(2)}</reservationId><ownerId>${owner}</ownerId>` +
    `<instancesSet><item><instanceId>${i.instanceId}</instanceId><imageId>ami-0123456789abcdef0</imageId>` +
    `<instanceState><code>${STATE_CODES[i.state]}</code><name>${i.state}</name></instanceState>` +
    `<privateDnsName>${dns}</privateDnsName><instanceType>t3.micro</instanceType>` +
    `<launchTime>${xmlEscape(i.launchTime)}</launchTime>` +
    (i.state === 'running' ? `<privateIpAddress>${xmlEscape(i.ipAddress)}</privateIpAddress>` : '') +
    `<platformDetails>Linux/UNIX</platformDetails>` +
    (tags ? `<tagSet>${tags}</tagSet>` : '') +
    `</item></instancesSet></item>`
  );
}
