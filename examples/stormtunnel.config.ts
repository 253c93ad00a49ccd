// A config that loads the three example plugins next to the built-in ones:
//   npx stormtunnel --config examples/stormtunnel.config.ts plugins
// In your own project the built-ins come from the package (`import { builtinPlugins } from 'stormtunnel'`)
// once it exports them; see docs/plugins.md, "Loading it from stormtunnel.config.ts". Inside this repository
// they are imported from the sources.
import { defineConfig } from 'stormtunnel';
import { builtinPlugins } from '../src/builtin-plugins.js';
import { auditLog } from './audit-log/index.js';
import { nameTagGuard } from './name-tag-guard/index.js';
import { officeHoursRetry } from './office-hours-retry/index.js';

export default defineConfig({
  plugins: [
    ...builtinPlugins(),
    nameTagGuard({ allowProduction: ['prod-db'] }),
    officeHoursRetry({ timeZone: 'Europe/Berlin', hours: [8, 19] }),
    auditLog({ file: '~/.local/state/stormtunnel/audit.jsonl' }),
  ],
  tunnels: [
    {
      name: 'web',
      profile: 'dev',
      region: 'us-east-1',
      target: 'tag:Name=bastion',
      remotePort: 8080,
      localPort: 18080,
    },
    {
      name: 'prod-db',
      profile: 'prod',
      region: 'us-east-1',
      target: 'tag:Name=prod-bastion',
      remotePort: 5432,
      localPort: 15432,
      autostart: false,
    },
  ],
});
