// The real desktop notifications: node-notifier (macOS Notification Center, Windows toasts, Linux notify-send).
import nodeNotifier from 'node-notifier';
import type { NotifierBackend } from './types.js';

export function nodeNotifierBackend(platform: NodeJS.Platform = process.platform): NotifierBackend {
  return {
    // notify-send exits at once and never reports clicks.
    reportsClicks: platform === 'darwin' || platform === 'win32',
    notify(n, callback) {
      const options: Record<string, unknown> = { title: n.title, message: n.message, wait: n.wait };
      // Only notify-send knows this flag; terminal-notifier and SnoreToast would reject it.
      if (platform === 'linux') options['app-name'] = n.appName;
      nodeNotifier.notify(options, (err, response) => callback(err, response));
    },
  };
}
