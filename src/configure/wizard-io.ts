// The questions a wizard asks, over the terminal: text and yes/no through the engine's prompt, lists through
// the searchable picker. Tests may script these answers instead.
import type { ProgressHandle, Prompt } from '../engine/types.js';
import { pick, type Choice, type PickerIo } from './picker.js';

export interface AskOptions {
  default?: string;
  /** Returns why the answer is not acceptable; the question is asked again. */
  validate?: (answer: string) => string | undefined;
}

export interface WizardIo {
  /** Whether a person can answer; without one, every value must come from a flag. */
  readonly interactive: boolean;
  ask(question: string, options?: AskOptions): Promise<string>;
  confirm(question: string, defaultValue: boolean): Promise<boolean>;
  choose<T>(title: string, choices: Choice<T>[]): Promise<T>;
  /** A line for the person (stderr). */
  say(text: string): void;
  progress(text: string): ProgressHandle;
}

export function terminalWizardIo(prompt: Prompt, picker: PickerIo): WizardIo {
  return {
    interactive: prompt.interactive,
    async ask(question, options = {}) {
      for (;;) {
        const answer = (
          await prompt.text(question, options.default ? { default: options.default } : {})
        ).trim();
        const problem = answer === '' ? 'an answer is needed' : options.validate?.(answer);
        if (!problem) return answer;
        prompt.say(`  ✖ ${problem}`);
      }
    },
    confirm: (question, defaultValue) => prompt.confirm(question, defaultValue),
    choose: (title, choices) => pick(title, choices, picker),
    say: (text) => prompt.say(text),
    progress: (text) => prompt.progress(text),
  };
}
