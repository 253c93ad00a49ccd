// SigV4 verification for every emulated AWS service (STS, SSM, ECS, EC2, RDS): find the access key the
// emulator issued, re-sign the request with @smithy/signature-v4 using the caller's signed headers and date,
// and compare signatures. Also how each protocol answers a failed check.
import { createHash, createHmac, timingSafeEqual, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Exchange } from './http.js';
import type { CredentialRecord, Store } from './store.js';

type SourceData = string | ArrayBuffer | ArrayBufferView;

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.make();
  }
  private make(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(this.secret));
  }
  update(data: SourceData): void {
    this.hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.make();
  }
}

export type SigFailure =
  'missing' | 'malformed' | 'unknownKey' | 'badToken' | 'badSignature' | 'expired' | 'skew' | 'scope';

export type SigResult =
  | { ok: true; credential: CredentialRecord; region: string }
  | { ok: false; failure: SigFailure; message: string };

const AUTH_RE =
  /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})\s*$/;
/** AWS rejects signatures more than 15 minutes from its clock. Checked against real time, not the emulator
 * clock, so a test that shifts the emulator clock to age tokens can still sign requests. */
const MAX_SKEW_MS = 15 * 60 * 1000;

export async function verifySigV4(
  ex: Exchange,
  store: Store,
  service: string,
  nowMs: number,
): Promise<SigResult> {
  const auth = ex.req.headers.authorization;
  if (!auth) return { ok: false, failure: 'missing', message: 'Request is missing Authentication Token' };
  const m = AUTH_RE.exec(auth);
  if (!m)
    return {
      ok: false,
      failure: 'malformed',
      message: 'Authorization header requires Credential, SignedHeaders and Signature',
    };
  const [, credential = '', signedHeadersRaw = '', signature = ''] = m;
  const scope = credential.split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request') {
    return {
      ok: false,
      failure: 'malformed',
      message: `Credential scope is malformed: ${credential.split('/').slice(1).join('/')}`,
    };
  }
  const [accessKeyId = '', shortDate = '', region = '', scopeService = ''] = scope;
  const record = store.credentials.get(accessKeyId);
  if (!record)
    return {
      ok: false,
      failure: 'unknownKey',
      message: 'The security token included in the request is invalid.',
    };
  if (scopeService !== service) {
    return {
      ok: false,
      failure: 'scope',
      message: `Credential should be scoped to correct service: '${service}'. `,
    };
  }
  const amzDate = ex.req.headers['x-amz-date'];
  const dateStr = typeof amzDate === 'string' ? amzDate : '';
  const signingDate = parseAmzDate(dateStr);
  if (!signingDate || !dateStr.startsWith(shortDate)) {
    return {
      ok: false,
      failure: 'malformed',
      message: 'X-Amz-Date header is missing or does not match the credential scope date',
    };
  }
  if (Math.abs(Date.now() - signingDate.getTime()) > MAX_SKEW_MS) {
    return {
      ok: false,
      failure: 'skew',
      message: `Signature expired: ${dateStr} is now earlier than ${formatAmzDate(new Date(Date.now() - MAX_SKEW_MS))} (${formatAmzDate(new Date())} - 15 min.)`,
    };
  }
  const tokenHeader = ex.req.headers['x-amz-security-token'];
  const sentToken = typeof tokenHeader === 'string' ? tokenHeader : undefined;
  if ((record.sessionToken ?? undefined) !== sentToken) {
    return {
      ok: false,
      failure: 'badToken',
      message: 'The security token included in the request is invalid.',
    };
  }
  const signedHeaders = signedHeadersRaw.split(';');
  if (!signedHeaders.includes('host')) {
    return { ok: false, failure: 'malformed', message: "'Host' must be a signed header" };
  }
  const headers: Record<string, string> = {};
  for (const h of signedHeaders) {
    const v = ex.req.headers[h];
    if (v === undefined) return { ok: false, failure: 'badSignature', message: signatureMismatch };
    headers[h] = Array.isArray(v) ? v.join(',') : v;
  }
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of ex.url.searchParams) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const signer = new SignatureV4({
    service,
    region,
    credentials: {
      accessKeyId,
      secretAccessKey: record.secretAccessKey,
      ...(record.sessionToken ? { sessionToken: record.sessionToken } : {}),
    },
    sha256: NodeSha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: ex.req.method ?? 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      path: ex.url.pathname,
      query,
      headers,
      body: ex.body.length ? ex.body.toString('utf8') : undefined,
    },
    { signingDate, signingRegion: region, signingService: service, signableHeaders: new Set(signedHeaders) },
  );
  const expected =
    /Signature=([0-9a-f]{64})/.exec(
      String(signed.headers.authorization ?? signed.headers.Authorization),
    )?.[1] ?? '';
  if (
    expected.length !== signature.length ||
    !timingSafeEqual(Buffer.from(expected), Buffer.from(signature))
  ) {
    return { ok: false, failure: 'badSignature', message: signatureMismatch };
  }
  if (record.expiresAt !== undefined && record.expiresAt <= nowMs) {
    return {
      ok: false,
      failure: 'expired',
      message: 'The security token included in the request is expired',
    };
  }
  return { ok: true, credential: record, region };
}

const signatureMismatch =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

function parseAmzDate(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  return new Date(
    Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])),
  );
}

function formatAmzDate(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** How the awsJson services (SSM, ECS) name each signature failure (the error `__type`). */
export const JSON_SIGNATURE_ERRORS: Readonly<Record<SigFailure, string>> = {
  missing: 'MissingAuthenticationTokenException',
  malformed: 'IncompleteSignatureException',
  unknownKey: 'UnrecognizedClientException',
  badToken: 'UnrecognizedClientException',
  badSignature: 'InvalidSignatureException',
  skew: 'InvalidSignatureException',
  scope: 'InvalidSignatureException',
  expired: 'ExpiredTokenException',
};

/** How the Query services (STS, RDS) answer each signature failure: HTTP status and error code. */
export const QUERY_SIGNATURE_ERRORS: Readonly<Record<SigFailure, readonly [number, string]>> = {
  missing: [403, 'MissingAuthenticationToken'],
  malformed: [400, 'IncompleteSignature'],
  unknownKey: [403, 'InvalidClientTokenId'],
  badToken: [403, 'InvalidClientTokenId'],
  badSignature: [403, 'SignatureDoesNotMatch'],
  skew: [403, 'SignatureDoesNotMatch'],
  scope: [403, 'SignatureDoesNotMatch'],
  expired: [400, 'ExpiredToken'],
};

/** How EC2 answers each signature failure: its own `ec2` protocol says AuthFailure for most. */
export const EC2_SIGNATURE_ERRORS: Readonly<Record<SigFailure, readonly [number, string]>> = {
  missing: [401, 'AuthFailure'],
  malformed: [400, 'IncompleteSignature'],
  unknownKey: [401, 'AuthFailure'],
  badToken: [401, 'AuthFailure'],
  badSignature: [401, 'AuthFailure'],
  skew: [400, 'RequestExpired'],
  scope: [401, 'AuthFailure'],
  expired: [400, 'RequestExpired'],
};
