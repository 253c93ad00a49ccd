// Which configured tunnels a request means, and which profile and region each one connects with. `up`,
// `check` and the engine's startTunnels and probeTunnel all go through these, so a wrong name or a missing
// region reads the same from every command, and no name is silently dropped.
import { UsageError } from './errors.js';
import type { TunnelConfig } from './plugin.js';

/** The tunnels named, in config order; an unknown name is an error (exit 2) naming what the config has. */
export function selectTunnels(
  all: readonly TunnelConfig[],
  names: readonly string[],
  configFile?: string,
): TunnelConfig[] {
  const known = all.map((t) => t.name);
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length) {
    const where = configFile ? ` in ${configFile}` : '';
    throw new UsageError(
      `unknown tunnel${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')}${where}`,
      {
        hint: known.length
          ? `the config has: ${known.join(', ')}`
          : 'add it to `tunnels` in your stormtunnel config',
      },
    );
  }
  return all.filter((t) => names.includes(t.name));
}

/** Where a tunnel's profile and region come from when the tunnel names none. */
export interface TunnelDefaults {
  /** Profile of tunnels that name none (--profile, AWS_PROFILE, "default"). */
  defaultProfile: string;
  /** Region of a profile (--region, AWS_REGION, the profile's `region`), for tunnels that name none. */
  regionFor(profile: string): Promise<string | undefined>;
}

export interface TunnelPlacement {
  profile: string;
  region: string;
}

/** The profile and region a tunnel connects with: its own, else the defaults; no region is an error (exit 2). */
export async function placeTunnel(tunnel: TunnelConfig, defaults: TunnelDefaults): Promise<TunnelPlacement> {
  const profile = tunnel.profile ?? defaults.defaultProfile;
  const region = tunnel.region ?? (await defaults.regionFor(profile));
  if (!region) {
    throw new UsageError(`tunnel "${tunnel.name}" has no region`, {
      hint: `set region on the tunnel, pass --region, or set region in profile "${profile}" of your AWS config`,
    });
  }
  return { profile, region };
}
