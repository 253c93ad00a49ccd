// How command modules plug into the CLI program.
import type { Command } from 'commander';
import type { CliContext } from './context.js';

/** Wraps a command action so it gets the CLI context and its errors reach the one error printer. */
export type RunAction = <O>(
  action: (ctx: CliContext, options: O, ...args: string[][]) => Promise<void | number>,
) => (...args: unknown[]) => Promise<void>;

export type CommandRegistrar = (program: Command, run: RunAction) => void;
