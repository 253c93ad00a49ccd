// Terminal prompts and progress. Progress is a spinner on a TTY and plain lines otherwise, always on
// stderr so that stdout stays clean for --json and credential_process output.
import { createInterface } from 'node:readline/promises';
import type { ProgressHandle, Prompt } from '../engine/types.js';

export interface TerminalPromptOptions {
  input?: NodeJS.ReadStream;
  output?: NodeJS.WriteStream;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function createTerminalPrompt(options: TerminalPromptOptions = {}): Prompt {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stderr;
  const interactive = Boolean(input.isTTY && output.isTTY);

  return {
    interactive,
    async text(question, opts = {}) {
      if (!interactive) throw new Error(`cannot ask "${question}": no terminal is attached`);
      const rl = createInterface({ input, output, terminal: true });
      if (opts.secret) {
        // Hide what is typed: readline writes through _writeToOutput.
        const anyRl = rl as unknown as { _writeToOutput: (s: string) => void };
        anyRl._writeToOutput = (s: string) => {
          if (s.includes(question)) output.write(s);
        };
      }
      try {
        const suffix = opts.default ? ` [${opts.default}]` : '';
        const answer = (await rl.question(`${question}${suffix}: `)).trim();
        if (opts.secret) output.write('\n');
        return answer || opts.default || '';
      } finally {
        rl.close();
      }
    },
    async confirm(question, defaultValue = false) {
      const answer = (await this.text(`${question} (${defaultValue ? 'Y/n' : 'y/N'})`)).toLowerCase();
      if (!answer) return defaultValue;
      return answer === 'y' || answer === 'yes';
    },
    say(text) {
      output.write(`${text}\n`);
    },
    progress(text) {
      return createProgress(output, text);
    },
  };
}

export function createProgress(output: NodeJS.WriteStream, initial: string): ProgressHandle {
  let text = initial;
  let frame = 0;
  let done = false;
  const tty = Boolean(output.isTTY);
  let timer: NodeJS.Timeout | undefined;
  if (tty) {
    const draw = () => output.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${text}`);
    draw();
    timer = setInterval(draw, 100);
    timer.unref();
  } else {
    output.write(`… ${text}\n`);
  }
  const finish = (symbol: string, final?: string) => {
    if (done) return;
    done = true;
    if (timer) clearInterval(timer);
    if (tty) output.write(`\r\x1b[2K${symbol ? `${symbol} ${final ?? text}\n` : ''}`);
    else if (symbol) output.write(`${symbol} ${final ?? text}\n`);
  };
  let lastPlain = 0;
  return {
    update(t) {
      text = t;
      // Plain output: at most one line every 10 s, so logs stay readable.
      if (!tty && !done && Date.now() - lastPlain >= 10_000) {
        lastPlain = Date.now();
        output.write(`… ${t}\n`);
      }
    },
    succeed: (t) => finish('✔', t),
    fail: (t) => finish('✖', t),
    stop: () => finish(''),
  };
}
