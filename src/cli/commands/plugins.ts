// `stormtunnel plugins`: the loaded plugins, the hooks each taps and the services each provides.
import type { Command } from 'commander';
import type { CommandRegistrar } from '../command.js';
import { printJson, printTable } from '../output.js';

export const registerPlugins: CommandRegistrar = (program: Command, run) => {
  program
    .command('plugins')
    .description('list the loaded plugins, the hooks each taps and the services each provides')
    .option('--json', 'print JSON')
    .action(
      run(async (ctx, opts: { json?: boolean }) => {
        const { HOOK_KINDS } = await import('../../engine/hooks.js');
        const config = await ctx.loadConfig();
        const engine = await ctx.createEngine();
        const plugins = engine.describePlugins().map((p) => ({
          ...p,
          hooks: p.hooks.map((h) => ({ name: h, kind: HOOK_KINDS[h] })),
        }));
        if (opts.json) {
          printJson(ctx.io.stdout, { config: config.file ?? null, plugins });
          return;
        }
        ctx.io.stdout.write(`config: ${config.file ?? '(none found: built-in defaults)'}\n`);
        if (!plugins.length) {
          ctx.io.stdout.write('no plugins loaded\n');
          return;
        }
        printTable(
          ctx.io.stdout,
          ['PLUGIN', 'HOOKS', 'PROVIDES'],
          plugins.map((p) => [p.name, p.hooks.map((h) => h.name).join(', '), p.provides.join(', ')]),
        );
      }),
    );
};
