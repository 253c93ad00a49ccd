// One HTTP exchange and the response shapes of each AWS protocol the emulator speaks.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultKind, RequestLogEntry, ServiceName } from './types.js';

export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  body: Buffer;
  service: ServiceName;
  operation: string;
  requestId: string;
  /** Key parameters for the request log; handlers add only non-secret values. */
  params: RequestLogEntry['params'];
  errorCode?: string;
  fault?: FaultKind;
}

export function newExchange(req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer): Exchange {
  return {
    req,
    res,
    url,
    body,
    service: 'unknown',
    operation: 'Unknown',
    requestId: randomUUID(),
    params: {},
  };
}

export const MAX_BODY_BYTES = 1024 * 1024;

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(
  ex: Exchange,
  status: number,
  contentType: string,
  body: string,
  headers: Record<string, string> = {},
) {
  if (ex.res.headersSent) return;
  ex.res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': ex.requestId,
    'cache-control': 'no-store',
    ...headers,
  });
  ex.res.end(body);
}

export function sendJson(
  ex: Exchange,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  send(ex, status, 'application/json', JSON.stringify(body), headers);
}

/** restJson1 error (SSO OIDC, SSO portal): the SDK reads the type from `x-amzn-errortype`. */
export function restJsonError(
  ex: Exchange,
  status: number,
  type: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): void {
  ex.errorCode = type;
  sendJson(ex, status, body, { 'x-amzn-errortype': type, ...headers });
}

/** awsJson1_1 error (SSM, an awsQuery-compatible service): `__type`, errortype and query-error headers. */
export function jsonRpcError(
  ex: Exchange,
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  ex.errorCode = type;
  const fault = status >= 500 ? 'Receiver' : 'Sender';
  send(ex, status, 'application/x-amz-json-1.1', JSON.stringify({ __type: type, message }), {
    'x-amzn-errortype': type,
    'x-amzn-query-error': `${type};${fault}`,
    ...headers,
  });
}

export function sendAmzJson(ex: Exchange, body: unknown): void {
  send(ex, 200, 'application/x-amz-json-1.1', JSON.stringify(body));
}

export function xmlEscape(s: string): string {
  return s.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c,
  );
}

export function sendXml(
  ex: Exchange,
  status: number,
  xml: string,
  headers: Record<string, string> = {},
): void {
  send(ex, status, 'text/xml', xml, headers);
}

/** awsQuery error (STS). */
export function queryError(
  ex: Exchange,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  ex.errorCode = code;
  const type = status >= 500 ? 'Receiver' : 'Sender';
  sendXml(
    ex,
    status,
    `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n  <Error>\n    <Type>${type}</Type>\n` +
      `    <Code>${xmlEscape(code)}</Code>\n    <Message>${xmlEscape(message)}</Message>\n  </Error>\n` +
      `  <RequestId>${ex.requestId}</RequestId>\n</ErrorResponse>\n`,
    headers,
  );
}

export function sendHtml(
  ex: Exchange,
  status: number,
  html: string,
  headers: Record<string, string> = {},
): void {
  send(ex, status, 'text/html; charset=utf-8', html, headers);
}

export function redirect(ex: Exchange, location: string, headers: Record<string, string> = {}): void {
  if (ex.res.headersSent) return;
  ex.res.writeHead(303, { location, 'content-length': 0, 'cache-control': 'no-store', ...headers });
  ex.res.end();
}

export function parseJsonBody(ex: Exchange): Record<string, unknown> | undefined {
  if (ex.body.length === 0) return {};
  try {
    const v: unknown = JSON.parse(ex.body.toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function parseForm(ex: Exchange): URLSearchParams {
  return new URLSearchParams(ex.body.toString('utf8'));
}

export function header(ex: Exchange, name: string): string | undefined {
  const v = ex.req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function strArray(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : undefined;
}
