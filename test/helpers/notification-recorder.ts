// A minimal org.freedesktop.Notifications service on the session bus that records Notify calls, so tests
// can observe real desktop notifications (notify-send, node-notifier) without a notification daemon.
import dbus from 'dbus-next';

const NAME = 'org.freedesktop.Notifications';
const PATH = '/org/freedesktop/Notifications';

export interface RecordedNotification {
  id: number;
  appName: string;
  replacesId: number;
  appIcon: string;
  summary: string;
  body: string;
  actions: string[];
  expireTimeout: number;
}

export interface NotificationRecorder {
  readonly calls: RecordedNotification[];
  /** Resolves once `count` Notify calls were recorded; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Owns the notification service name on the session bus; fails if something else owns it. */
export async function startNotificationRecorder(): Promise<NotificationRecorder> {
  const bus = dbus.sessionBus();
  const calls: RecordedNotification[] = [];
  const waiters = new Set<() => void>();
  let nextId = 1;

  const reply = (msg: dbus.Message, signature?: string, body?: unknown[]) => {
    bus.send(dbus.Message.newMethodReturn(msg, signature, body));
    return true;
  };

  const handler = (msg: dbus.Message): boolean => {
    if (msg.path !== PATH || msg.interface !== NAME) return false;
    switch (msg.member) {
      case 'GetCapabilities':
        return reply(msg, 'as', [['body']]);
      case 'GetServerInformation':
        return reply(msg, 'ssss', ['stormtunnel-test-recorder', 'stormtunnel', '1.0', '1.2']);
      case 'CloseNotification': {
        const [id] = msg.body as [number];
        bus.send(dbus.Message.newSignal(PATH, NAME, 'NotificationClosed', 'uu', [id, 3]));
        return reply(msg);
      }
      case 'Notify': {
        const [appName, replacesId, appIcon, summary, body, actions, , expireTimeout] = msg.body as [
          string,
          number,
          string,
          string,
          string,
          string[],
          unknown,
          number,
        ];
        const id = replacesId || nextId++;
        calls.push({ id, appName, replacesId, appIcon, summary, body, actions, expireTimeout });
        for (const wake of waiters) wake();
        return reply(msg, 'u', [id]);
      }
      default:
        return false;
    }
  };
  bus.addMethodHandler(handler);

  try {
    const answer = await bus.requestName(NAME, dbus.NameFlag.DO_NOT_QUEUE);
    if (answer !== dbus.RequestNameReply.PRIMARY_OWNER) {
      throw new Error(`${NAME} is already owned on this session bus (reply ${answer})`);
    }
  } catch (err) {
    bus.disconnect();
    throw err;
  }

  return {
    calls,
    waitFor(count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (calls.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${count} Notify calls within ${timeoutMs} ms, got ${calls.length}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      bus.removeMethodHandler(handler);
      try {
        await bus.releaseName(NAME);
      } finally {
        bus.disconnect();
      }
    },
  };
}
