// The Notifier service on desktop notifications: each key is shown once until cleared, every message
// also goes to the terminal and the log, and a click runs the notification's onClick.
import { redactString } from '../../src/plugin-kit/index.js';
import type { Logger, Notification } from '../../src/plugin-kit/index.js';
import type { DesktopNotifier, NotifierBackend } from './types.js';

export class DesktopNotificationService implements DesktopNotifier {
  private readonly shown = new Set<string>();
  private readonly pending = new Set<Promise<void>>();
  private deliveryFailureLogged = false;

  constructor(
    private readonly backend: NotifierBackend,
    private readonly logger: Logger,
    private readonly appName: string,
    private readonly signal?: AbortSignal,
  ) {}

  get reportsClicks(): boolean {
    return this.backend.reportsClicks;
  }

  async notify(n: Notification): Promise<void> {
    if (this.shown.has(n.key)) return;
    this.shown.add(n.key);
    // The terminal and the log always get it, so nothing is lost without a notification service.
    this.logger.warn(`${n.title}: ${n.message}`, { notification: n.key });
    // notify-send receives these in argv: never a secret there.
    const title = redactString(n.title);
    const message = redactString(n.message);
    const wait = Boolean(n.onClick) && this.backend.reportsClicks;
    // Not awaited by callers: on macOS the callback only comes after a click or a timeout.
    const delivered = new Promise<void>((resolve) => {
      try {
        this.backend.notify({ title, message, wait, appName: this.appName }, (err, response) => {
          if (err) this.deliveryFailed(err);
          else if (response === 'activate' && n.onClick && !this.signal?.aborted) this.click(n);
          resolve();
        });
      } catch (err) {
        this.deliveryFailed(err);
        resolve();
      }
    });
    this.pending.add(delivered);
    void delivered.finally(() => this.pending.delete(delivered));
  }

  clear(key: string): void {
    this.shown.delete(key);
  }

  async idle(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  private click(n: Notification): void {
    try {
      n.onClick?.();
    } catch (err) {
      this.logger.error('the notification click handler failed', { notification: n.key, err });
    }
  }

  private deliveryFailed(err: unknown): void {
    // One line per process: a missing notification service would otherwise repeat on every message.
    if (this.deliveryFailureLogged) {
      this.logger.debug('desktop notification not shown', { err });
      return;
    }
    this.deliveryFailureLogged = true;
    // One line: the reason, not a stack trace (the details are at debug level).
    const reason = (err instanceof Error ? err.message : String(err)).split('\n').filter(Boolean).pop() ?? '';
    this.logger.warn(
      `desktop notifications are not available here (${reason}); messages go to the terminal and the log`,
    );
    this.logger.debug('desktop notification failed', { err });
  }
}
