// MFA codes for roles with mfa_serial: the mfaCode hook first, then the plugin option, then the terminal.
// Codes are never logged or put in errors.
import { UsageError } from '../../src/plugin-kit/index.js';
import type { PluginApi, MfaRequest } from '../../src/plugin-kit/index.js';
import type { AssumeRoleOptions } from './types.js';

export class MfaCodes {
  // One terminal prompt at a time, so two roles needing codes never interleave their questions.
  private promptQueue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly api: PluginApi,
    private readonly option: AssumeRoleOptions['mfaCode'],
  ) {}

  async codeFor(request: MfaRequest): Promise<string> {
    let from = 'the mfaCode hook';
    let code = await this.api.mfaCode(request);
    if (code === undefined && this.option) {
      from = 'the mfaCode option of assumeRole()';
      code = await this.option(request);
    }
    if (code === undefined) {
      const prompt = this.api.services.prompt;
      if (!prompt.interactive) {
        throw new UsageError(
          `profile "${request.profile}" needs an MFA code (mfa_serial ${request.mfaSerial}) but no terminal is available; run in a terminal or provide a code through a plugin`,
          {
            hint: 'a plugin can answer the mfaCode hook, or pass mfaCode to assumeRole() in your stormtunnel config',
          },
        );
      }
      from = 'the terminal';
      const asked = this.promptQueue.then(() =>
        prompt.text(`MFA code for ${request.mfaSerial}`, { secret: true }),
      );
      this.promptQueue = asked.catch(() => undefined);
      code = await asked;
    }
    const trimmed = typeof code === 'string' ? code.trim() : '';
    if (!/^\d{6}$/.test(trimmed)) {
      throw new UsageError(
        `the MFA code from ${from} for profile "${request.profile}" (mfa_serial ${request.mfaSerial}) is not 6 digits`,
        { hint: 'give the current 6-digit code of that MFA device' },
      );
    }
    return trimmed;
  }
}
