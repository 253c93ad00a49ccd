// The front of every awsJson service (SSM, ECS): SigV4 with that protocol's error names, the caller and region
// noted for the request log, and a JSON body. On a failure it answers the request itself.
import type { Emu } from './context.js';
import { jsonRpcError, type Exchange } from './http.js';
import { JSON_SIGNATURE_ERRORS, verifySigV4 } from './sigv4.js';
import type { CredentialRecord } from './store.js';

export interface JsonRequest {
  emu: Emu;
  ex: Exchange;
  body: Record<string, unknown>;
  caller: CredentialRecord;
  region: string;
}

/** The signed request with its parsed `body`, or undefined once the failure has been answered. */
export async function acceptJsonRequest(
  emu: Emu,
  ex: Exchange,
  service: string,
  body: Record<string, unknown> | undefined,
): Promise<JsonRequest | undefined> {
  const sig = await verifySigV4(ex, emu.store, service, emu.clock.now());
  if (!sig.ok) {
    jsonRpcError(ex, sig.failure === 'missing' ? 403 : 400, JSON_SIGNATURE_ERRORS[sig.failure], sig.message);
    return undefined;
  }
  ex.params.region = sig.region;
  ex.params.callerArn = sig.credential.principal.arn;
  if (!body) {
    jsonRpcError(ex, 400, 'SerializationException', 'Request body is not valid JSON');
    return undefined;
  }
  return { emu, ex, body, caller: sig.credential, region: sig.region };
}
