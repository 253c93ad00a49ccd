// Public types of the notify plugin: its options and the desktop notification backend it talks to.
import type { Notifier } from '../../src/plugin-kit/index.js';

/** What the backend is asked to show; title and message are plain text without secrets. */
export interface DesktopNotification {
  title: string;
  message: string;
  /** Ask to be told about a click (node-notifier's `wait: true`). */
  wait: boolean;
  appName: string;
}

/** node-notifier's callback: `response` is "activate" after a click (node-notifier normalises "clicked"). */
export type NotificationCallback = (err: Error | null, response?: string, metadata?: object) => void;

/** The desktop notification service, shaped like node-notifier's `notify(options, callback)`. */
export interface NotifierBackend {
  /** Whether clicks reach the callback here (macOS Notification Center, Windows toasts; not notify-send). */
  readonly reportsClicks: boolean;
  notify(notification: DesktopNotification, callback: NotificationCallback): void;
}

export interface NotifyOptions {
  /** No desktop notifications; messages still go to the terminal and the log. */
  quiet?: boolean;
  notifier?: NotifierBackend;
  /** The application name shown with the notification (notify-send's --app-name). */
  appName?: string;
}

export interface DesktopNotifier extends Notifier {
  /** Whether a click on a notification can start something (see NotifierBackend.reportsClicks). */
  readonly reportsClicks: boolean;
  /** Resolves once every notification handed to the backend has been answered (delivered or failed). */
  idle(): Promise<void>;
}
