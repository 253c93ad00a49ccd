// What the engine uses when no plugin provides a service: honest, minimal implementations.
import { createAwsClientFactory } from '../aws-sdk/client-factory.js';
import { createTerminalPrompt } from '../terminal/prompt.js';
import type { Logger, Notifier, Services, StoredToken, TokenStore } from './types.js';

/** Keeps tokens for the life of the process only; `status` says so. */
export class MemoryTokenStore implements TokenStore {
  readonly kind = 'memory';
  private readonly tokens = new Map<string, StoredToken>();
  async get(session: string) {
    return this.tokens.get(session) ?? null;
  }
  async set(token: StoredToken) {
    this.tokens.set(token.session, { ...token });
  }
  async delete(session: string) {
    this.tokens.delete(session);
  }
  async describe() {
    return {
      available: true,
      detail: 'in memory only (no keychain plugin loaded): tokens do not outlive the process',
    };
  }
}

/** Writes notifications to the log (the terminal) when no desktop notifier is loaded. */
export class LogNotifier implements Notifier {
  private readonly shown = new Set<string>();
  constructor(private readonly logger: Logger) {}
  async notify(n: { key: string; title: string; message: string }) {
    if (this.shown.has(n.key)) return;
    this.shown.add(n.key);
    this.logger.warn(`${n.title}: ${n.message}`);
  }
  clear(key: string) {
    this.shown.delete(key);
  }
}

export function defaultServices(logger: Logger): Services {
  return {
    tokenStore: new MemoryTokenStore(),
    notifier: new LogNotifier(logger),
    aws: createAwsClientFactory(),
    prompt: createTerminalPrompt(),
  };
}
