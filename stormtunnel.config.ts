// The example config: what `stormtunnel demo` brings up against the local AWS emulator.
// Copy it next to your project and point the profiles and targets at your own AWS.
import { defineConfig } from 'stormtunnel';

export default defineConfig({
  // No `plugins` key: the built-in set (profile credentials, sso, assume-role, keychain, notify, retry,
  // ssm-tunnel). Add your own with `plugins: [...builtins, myPlugin()]`.
  tunnels: [
    {
      // An SSO profile (sso-session) straight to an instance.
      name: 'web',
      profile: 'demo-sso',
      region: 'us-east-1',
      target: 'i-0123456789abcdef0',
      remotePort: 18080,
      localPort: 0,
    },
    {
      // Cross-account: an assume-role profile whose source is the SSO profile, to a host behind the instance.
      name: 'db',
      profile: 'demo-cross-account',
      region: 'us-east-1',
      target: 'i-0222222222222222a',
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
