// The same recording logger plugin authors get from `stormtunnel/testing`.
export { captureLogger, type LogRecord } from '../../src/testing/index.js';
