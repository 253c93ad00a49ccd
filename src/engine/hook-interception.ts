// One interceptor per hook, installed before any plugin taps: tags a tap's error with its plugin and hook,
// isolates the taps of fan-out hooks (a failure is logged, the others run), rejects `null` from bail taps
// (tapable would silently stop the chain), and remembers which plugin vetoed a connection.
import { isPluginError, PluginError } from './errors.js';
import { BAIL_HOOKS, ISOLATED_HOOKS, type EngineHooks, type HookName } from './hooks.js';
import type { ConnectDraft, Logger, Veto } from './types.js';

/** Failures of isolated taps during one call, keyed by the call's argument object (see `collectFailures`). */
const collected = new WeakMap<object, PluginError[]>();

/** Runs `call(arg)` and returns the failures its isolated taps had (they are logged, not thrown). */
export async function collectFailures<A extends object>(
  arg: A,
  call: (arg: A) => Promise<unknown>,
): Promise<PluginError[]> {
  collected.set(arg, []);
  try {
    await call(arg);
    return collected.get(arg) ?? [];
  } finally {
    collected.delete(arg);
  }
}

export function interceptHooks(hooks: EngineHooks, logger: Logger): void {
  for (const name of Object.keys(hooks) as HookName[]) interceptHook(name, hooks[name], logger);
}

function interceptHook(name: HookName, hook: EngineHooks[HookName], logger: Logger): void {
  const isolated = ISOLATED_HOOKS.has(name);
  const bail = BAIL_HOOKS.has(name);
  (hook as { intercept(i: object): void }).intercept({
    register(tap: { name: string; type: 'sync' | 'async' | 'promise'; fn: (...args: unknown[]) => unknown }) {
      const original = tap.fn;
      const fail = (err: unknown, args: unknown[]): undefined => {
        const tagged = isPluginError(err) && err.hook === name ? err : new PluginError(tap.name, name, err);
        if (!isolated) throw tagged;
        logger
          .child({ plugin: tap.name })
          .error(`${name} tap failed; other plugins continue`, { err: tagged.cause });
        const bucket = typeof args[0] === 'object' && args[0] !== null ? collected.get(args[0]) : undefined;
        bucket?.push(tagged);
        return undefined;
      };
      const check = (result: unknown): unknown => {
        if (bail && result === null) {
          throw new PluginError(
            tap.name,
            name,
            new Error('returned null'),
            `plugin "${tap.name}" returned null from ${name}: that is a plugin bug (return undefined to let the next plugin answer)`,
          );
        }
        return result;
      };
      // Sync taps stay sync, so a sync hook call never turns into a promise.
      if (tap.type === 'sync') {
        tap.fn = (...args: unknown[]) => {
          try {
            return check(original(...args));
          } catch (err) {
            return fail(err, args);
          }
        };
      } else if (tap.type === 'promise') {
        tap.fn = async (...args: unknown[]) => {
          try {
            return check(await original(...args));
          } catch (err) {
            return fail(err, args);
          }
        };
      } else {
        tap.fn = (...args: unknown[]) => {
          const cb = args.pop() as (err: unknown, result?: unknown) => void;
          original(...args, (err: unknown, result?: unknown) => {
            try {
              if (err) cb(null, fail(err, args));
              else cb(null, check(result));
            } catch (e) {
              cb(e);
            }
          });
        };
      }
      return tap;
    },
  });
}

/** Records which plugin returned each veto from beforeConnect; returns the lookup. */
export function trackVetoes(hook: EngineHooks['beforeConnect']): (veto: Veto) => string | undefined {
  const vetoPlugin = new WeakMap<Veto, string>();
  hook.intercept({
    register(tap) {
      const fn = tap.fn as (draft: ConnectDraft) => Promise<Veto | undefined> | Veto | undefined;
      const record = (v: Veto | undefined) => {
        if (v) vetoPlugin.set(v, tap.name);
        return v;
      };
      tap.fn =
        tap.type === 'sync'
          ? (d: ConnectDraft) => record(fn(d) as Veto | undefined)
          : async (d: ConnectDraft) => record(await fn(d));
      return tap;
    },
  });
  return (veto) => vetoPlugin.get(veto);
}
