// What every handler needs: the records, the clock, the settings and where the emulator listens.
import type { DataChannelRealism, DataChannelRegistry } from './agent/types.js';
import type { Faults } from './faults.js';
import type { RequestLog } from './request-log.js';
import type { EmulatorSettings } from './state.js';
import type { Clock, Store } from './store.js';

export interface Emu {
  store: Store;
  clock: Clock;
  faults: Faults;
  log: RequestLog;
  registry: DataChannelRegistry;
  /** `http://127.0.0.1:PORT` */
  url: string;
  startUrl: string;
  autoApprove: boolean;
  /** Realism switches given to each new session. */
  dataChannel: DataChannelRealism;
  settings(): EmulatorSettings;
  logger: (line: string) => void;
}
