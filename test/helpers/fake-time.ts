// The same helper plugin authors get from `stormtunnel/testing`.
export { advanceUntil } from '../../src/testing/index.js';
