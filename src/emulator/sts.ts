// STS (awsQuery, SigV4): GetCallerIdentity and AssumeRole with trust policy, ExternalId, MFA,
// DurationSeconds limits and role chaining. Responses and errors are STS's XML.
import type { Emu } from './context.js';
import { acceptFormRequest } from './form-request.js';
import { parseForm, queryError, sendXml, xmlEscape, type Exchange } from './http.js';
import { secretAccessKey, sessionToken, stableUniqueId, temporaryAccessKeyId } from './ids.js';
import { mfaCodeValid } from './mfa.js';
import { QUERY_SIGNATURE_ERRORS } from './sigv4.js';
import { principalMatches, type CredentialRecord } from './store.js';

const NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

/** The Action of an STS form body, for routing and the request log. */
export function stsAction(ex: Exchange): string {
  return parseForm(ex).get('Action') ?? 'Unknown';
}

/** AssumeRole's parameters in the request log, noted before the signature check so a refused call shows them. */
function noteAssumeRoleParams(ex: Exchange, form: URLSearchParams): void {
  if (form.get('Action') !== 'AssumeRole') return;
  for (const k of ['RoleArn', 'RoleSessionName', 'DurationSeconds', 'SerialNumber'] as const) {
    const v = form.get(k);
    if (v !== null) ex.params[k[0]!.toLowerCase() + k.slice(1)] = v;
  }
  if (form.has('ExternalId')) ex.params.externalIdGiven = true;
  if (form.has('TokenCode')) ex.params.tokenCodeGiven = true;
}

export async function handleSts(emu: Emu, ex: Exchange): Promise<void> {
  const body = parseForm(ex);
  noteAssumeRoleParams(ex, body);
  const request = await acceptFormRequest(emu, ex, 'sts', QUERY_SIGNATURE_ERRORS, queryError, body);
  if (!request) return;
  const { form, action, caller } = request;
  ex.params.accessKeyId = caller.accessKeyId;
  if (form.get('Version') !== '2011-06-15') {
    return queryError(
      ex,
      400,
      'InvalidAction',
      `Could not find operation ${action} for version ${form.get('Version') ?? 'NO_VERSION_SPECIFIED'}`,
    );
  }
  if (action === 'GetCallerIdentity') return getCallerIdentity(ex, caller);
  if (action === 'AssumeRole') return assumeRole(emu, ex, caller, form);
  queryError(ex, 400, 'InvalidAction', `Could not find operation ${action} for version 2011-06-15`);
}

function getCallerIdentity(ex: Exchange, caller: CredentialRecord): void {
  const p = caller.principal;
  sendXml(
    ex,
    200,
    `<GetCallerIdentityResponse xmlns="${NS}">
  <GetCallerIdentityResult>
    <Arn>${xmlEscape(p.arn)}</Arn>
    <UserId>${xmlEscape(p.userId)}</UserId>
    <Account>${p.accountId}</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata>
    <RequestId>${ex.requestId}</RequestId>
  </ResponseMetadata>
</GetCallerIdentityResponse>
`,
  );
}

function validation(ex: Exchange, message: string): void {
  queryError(ex, 400, 'ValidationError', message);
}

function assumeRole(emu: Emu, ex: Exchange, caller: CredentialRecord, form: URLSearchParams): void {
  const roleArn = form.get('RoleArn') ?? '';
  const sessionName = form.get('RoleSessionName') ?? '';
  if (!roleArn)
    return validation(
      ex,
      "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null",
    );
  if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
    return validation(
      ex,
      `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and length between 2 and 64`,
    );
  }
  const durationRaw = form.get('DurationSeconds');
  const duration = durationRaw === null ? 3600 : Number(durationRaw);
  if (!Number.isInteger(duration) || duration < 900) {
    return validation(
      ex,
      `1 validation error detected: Value '${durationRaw}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900`,
    );
  }
  if (duration > 43200) {
    return validation(
      ex,
      `1 validation error detected: Value '${durationRaw}' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200`,
    );
  }
  const p = caller.principal;
  const denied = () =>
    queryError(
      ex,
      403,
      'AccessDenied',
      `User: ${p.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
    );
  if (p.deny.includes('sts:AssumeRole')) return denied();
  const role = emu.store.state.iamRoles.find((r) => r.arn === roleArn);
  if (!role || !role.trustedPrincipals.some((t) => principalMatches(t, p))) return denied();
  if (role.externalId !== undefined && form.get('ExternalId') !== role.externalId) return denied();
  if (role.mfaSerial !== undefined) {
    const serial = form.get('SerialNumber');
    const code = form.get('TokenCode');
    if (serial !== role.mfaSerial || !code) return denied();
    const device = emu.store.state.mfaDevices.find((d) => d.serial === serial);
    if (!device || !mfaCodeValid(device, code, emu.clock.now())) {
      return queryError(
        ex,
        403,
        'AccessDenied',
        'MultiFactorAuthentication failed with invalid MFA one time pass code. ',
      );
    }
  }
  if (p.assumedRole && duration > 3600) {
    return validation(
      ex,
      'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
    );
  }
  if (duration > role.maxSessionDuration) {
    return validation(ex, 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
  }
  const accountId = roleArn.split(':')[4] ?? '';
  const roleName = roleArn.split('/').pop() ?? '';
  const expiresAt = emu.clock.now() + duration * 1000;
  const roleId = stableUniqueId('AROA', roleArn);
  const rec: CredentialRecord = {
    accessKeyId: temporaryAccessKeyId(),
    secretAccessKey: secretAccessKey(),
    sessionToken: sessionToken(),
    expiresAt,
    principal: {
      accountId,
      arn: `arn:aws:sts::${accountId}:assumed-role/${roleName}/${sessionName}`,
      userId: `${roleId}:${sessionName}`,
      trustArn: roleArn,
      deny: role.deny,
      assumedRole: true,
      sessionName,
    },
  };
  emu.store.credentials.set(rec.accessKeyId, rec);
  sendXml(
    ex,
    200,
    `<AssumeRoleResponse xmlns="${NS}">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <AssumedRoleId>${xmlEscape(rec.principal.userId)}</AssumedRoleId>
      <Arn>${xmlEscape(rec.principal.arn)}</Arn>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>${rec.accessKeyId}</AccessKeyId>
      <SecretAccessKey>${xmlEscape(rec.secretAccessKey)}</SecretAccessKey>
      <SessionToken>${xmlEscape(rec.sessionToken ?? '')}</SessionToken>
      <Expiration>${new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z')}</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata>
    <RequestId>${ex.requestId}</RequestId>
  </ResponseMetadata>
</AssumeRoleResponse>
`,
  );
}
