// The services plugins use (tokenStore, notifier, aws, prompt): a plugin's `provide` wins over the host's,
// the host's over the honest defaults. Provided only during apply; resolved once, after every plugin applied.
import { PluginError } from './errors.js';
import { defaultServices } from './default-services.js';
import type { Logger, ServiceName, Services } from './types.js';

export class ServiceRegistry {
  private readonly provided: Partial<Services> = {};
  private readonly providers = new Map<ServiceName, string>();
  private resolved: Services | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly host: Partial<Services> = {},
  ) {}

  /** Records `plugin`'s implementation; an error after apply or when another plugin provided it already. */
  provide<K extends ServiceName>(plugin: string, service: K, implementation: Services[K]): void {
    if (this.resolved) {
      throw new PluginError(plugin, 'provide', new Error(`"${service}" must be provided during apply()`));
    }
    const other = this.providers.get(service);
    if (other) {
      throw new PluginError(
        plugin,
        'provide',
        new Error(`"${service}" is already provided by plugin "${other}"`),
      );
    }
    this.provided[service] = implementation;
    this.providers.set(service, plugin);
  }

  /** The services in effect; the first read closes `provide`. */
  get services(): Services {
    this.resolved ??= { ...defaultServices(this.logger), ...this.host, ...this.provided };
    return this.resolved;
  }

  /** The services `plugin` provides (for `stormtunnel plugins`). */
  providedBy(plugin: string): ServiceName[] {
    return [...this.providers].filter(([, by]) => by === plugin).map(([service]) => service);
  }
}
