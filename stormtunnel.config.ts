// The example config: what `stormtunnel demo` brings up against the local AWS emulator.
// Copy it next to your project and point the profiles and targets at your own AWS.
import { defineConfig } from 'stormtunnel';

export default defineConfig({
  // No `plugins` key: the built-in set (sso, assume-role, keychain, notify, retry, ssm-tunnel).
  tunnels: [
    {
      name: 'web',
      profile: 'demo-sso',
      region: 'us-east-1',
      target: 'i-0a1b2c3d4e5f60718',
      remotePort: 18080,
      localPort: 0,
    },
    {
      name: 'db',
      profile: 'demo-cross-account',
      region: 'us-east-1',
      target: 'i-0a1b2c3d4e5f60718',
      remoteHost: '127.0.0.1',
      remotePort: 18081,
      localPort: 0,
    },
  ],
  settings: {
    earlyRefreshThreshold: '5m',
    refreshCheckInterval: '60s',
    retry: { maxAttempts: 5, maxRecoveryDuration: '120s', jitter: true },
  },
});
