// The front of every form-encoded service (STS and RDS: awsQuery; EC2: its own `ec2` protocol): the parsed
// form, SigV4 with that protocol's error answers, and the caller and region noted for the request log. On a
// signature failure it answers the request itself, in the service's own error document.
import type { Emu } from './context.js';
import { parseForm, type Exchange } from './http.js';
import { verifySigV4, type SigFailure } from './sigv4.js';
import type { CredentialRecord } from './store.js';

export interface FormRequest {
  form: URLSearchParams;
  action: string;
  caller: CredentialRecord;
  region: string;
}

/** Writes a service's error document (each form service has its own shape). */
export type FormErrorAnswer = (ex: Exchange, status: number, code: string, message: string) => void;

/**
 * The signed request with its form, or undefined once the failure has been answered. `form` is the body
 * already parsed by a service that reads it before the signature check (STS notes AssumeRole's parameters).
 */
export async function acceptFormRequest(
  emu: Emu,
  ex: Exchange,
  service: string,
  signatureErrors: Readonly<Record<SigFailure, readonly [number, string]>>,
  answerError: FormErrorAnswer,
  form: URLSearchParams = parseForm(ex),
): Promise<FormRequest | undefined> {
  const sig = await verifySigV4(ex, emu.store, service, emu.clock.now());
  if (!sig.ok) {
    const [status, code] = signatureErrors[sig.failure];
    answerError(ex, status, code, sig.message);
    return undefined;
  }
  ex.params.region = sig.region;
  ex.params.callerArn = sig.credential.principal.arn;
  return { form, action: form.get('Action') ?? '', caller: sig.credential, region: sig.region };
}
