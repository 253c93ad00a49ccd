// A searchable list in the terminal: type to filter, arrows to move, Enter to choose, Esc or Ctrl-C to
// cancel. Built on node:readline keypress events; a dumb terminal gets numbered choices instead.
import { emitKeypressEvents } from 'node:readline';
import { createInterface } from 'node:readline/promises';
import { StormtunnelError } from '../engine/errors.js';

export interface Choice<T> {
  label: string;
  value: T;
  /** Text the filter searches (default: the label). */
  search?: string;
}

export interface PickerIo {
  input: NodeJS.ReadStream;
  /** Where the list is drawn (stderr, so stdout stays clean). */
  output: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

export interface PickOptions {
  /** Rows of choices shown at once (default 10). */
  pageSize?: number;
}

/** The person pressed Esc or Ctrl-C: exit code 130, as for an interrupted command. */
export class PickCancelledError extends StormtunnelError {
  constructor() {
    super('cancelled', { exitCode: 130 });
  }
}

/** Choices whose search text contains every word of the query (case-insensitive). */
export function filterChoices<T>(choices: readonly Choice<T>[], query: string): Choice<T>[] {
  const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (!terms.length) return [...choices];
  return choices.filter((c) => {
    const text = (c.search ?? c.label).toLowerCase();
    return terms.every((t) => text.includes(t));
  });
}

export function canDrawPicker(io: PickerIo): boolean {
  return Boolean(io.input.isTTY && typeof io.input.setRawMode === 'function' && io.env.TERM !== 'dumb');
}

export async function pick<T>(
  title: string,
  choices: readonly Choice<T>[],
  io: PickerIo,
  options: PickOptions = {},
): Promise<T> {
  if (!choices.length) throw new Error(`nothing to choose for "${title}"`);
  return canDrawPicker(io) ? pickWithKeys(title, choices, io, options) : pickByNumber(title, choices, io);
}

function pickWithKeys<T>(
  title: string,
  choices: readonly Choice<T>[],
  io: PickerIo,
  options: PickOptions,
): Promise<T> {
  const { input, output } = io;
  const pageSize = Math.max(3, options.pageSize ?? 10);
  let query = '';
  let filtered = filterChoices(choices, query);
  let index = 0;
  let top = 0;
  let drawn = 0;
  const width = () => Math.max(20, (output.columns || 80) - 1);
  const fit = (s: string) => (s.length > width() ? `${s.slice(0, width() - 1)}…` : s);

  const draw = () => {
    if (index < top) top = index;
    if (index >= top + pageSize) top = index - pageSize + 1;
    const lines = [
      fit(`? ${title} (type to filter, ↑/↓ to move, Enter to choose)`),
      fit(`  filter: ${query}`),
    ];
    const page = filtered.slice(top, top + pageSize);
    if (!page.length) lines.push('  (no match: Backspace to widen the filter)');
    page.forEach((c, i) => {
      const at = top + i === index;
      lines.push(at ? `\x1b[7m${fit(`❯ ${c.label}`)}\x1b[27m` : fit(`  ${c.label}`));
    });
    lines.push(fit(`  ${filtered.length} of ${choices.length}`));
    erase();
    output.write(lines.join('\n'));
    drawn = lines.length;
  };
  const erase = () => {
    if (drawn > 1) output.write(`\x1b[${drawn - 1}F`);
    if (drawn > 0) output.write('\r\x1b[0J');
    drawn = 0;
  };

  return new Promise<T>((resolve, reject) => {
    const wasRaw = input.isRaw;
    emitKeypressEvents(input);
    input.setRawMode(true);
    input.resume();
    output.write('\x1b[?25l');
    const finish = (err: Error | undefined, value?: T, label?: string) => {
      input.off('keypress', onKey);
      erase();
      output.write('\x1b[?25h');
      output.write(err ? `? ${title}: cancelled\n` : `? ${title}: ${label ?? ''}\n`);
      input.setRawMode(wasRaw);
      input.pause();
      if (err) reject(err);
      else resolve(value as T);
    };
    const onKey = (str: string | undefined, key: { name?: string; ctrl?: boolean; meta?: boolean } = {}) => {
      if ((key.ctrl && key.name === 'c') || key.name === 'escape') return finish(new PickCancelledError());
      switch (key.name) {
        case 'return':
        case 'enter': {
          const chosen = filtered[index];
          if (!chosen) {
            output.write('\x07');
            return;
          }
          return finish(undefined, chosen.value, chosen.label);
        }
        case 'up':
          index = Math.max(0, index - 1);
          break;
        case 'down':
          index = Math.min(Math.max(0, filtered.length - 1), index + 1);
          break;
        case 'pageup':
          index = Math.max(0, index - pageSize);
          break;
        case 'pagedown':
          index = Math.min(Math.max(0, filtered.length - 1), index + pageSize);
          break;
        case 'home':
          index = 0;
          break;
        case 'end':
          index = Math.max(0, filtered.length - 1);
          break;
        case 'backspace':
          query = query.slice(0, -1);
          filtered = filterChoices(choices, query);
          index = 0;
          break;
        default:
          if (str && !key.ctrl && !key.meta && isPrintable(str)) {
            query += str;
            filtered = filterChoices(choices, query);
            index = 0;
          } else return;
      }
      draw();
    };
    input.on('keypress', onKey);
    draw();
  });
}

function isPrintable(s: string): boolean {
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (c < 0x20 || c === 0x7f) return false;
  }
  return true;
}

/** For terminals that cannot redraw: a numbered list; text instead of a number narrows it. */
async function pickByNumber<T>(title: string, choices: readonly Choice<T>[], io: PickerIo): Promise<T> {
  const rl = createInterface({ input: io.input, output: io.output, terminal: false });
  // End of input (Ctrl-D) would leave the question unanswered forever: treat it as a cancel.
  const closed = new Promise<never>((_, reject) => rl.once('close', () => reject(new PickCancelledError())));
  closed.catch(() => undefined);
  try {
    let shown = [...choices];
    for (;;) {
      io.output.write(`${title}:\n`);
      shown.forEach((c, i) => io.output.write(`  ${String(i + 1).padStart(3)}. ${c.label}\n`));
      const question = `Number${shown.length < choices.length ? '' : ', or words to filter'}: `;
      const answer = (await Promise.race([closed, rl.question(question)])).trim();
      const n = Number(answer);
      if (/^\d+$/.test(answer) && n >= 1 && n <= shown.length) return (shown[n - 1] as Choice<T>).value;
      const narrowed = answer ? filterChoices(choices, answer) : [...choices];
      if (!narrowed.length) io.output.write(`no choice matches "${answer}"\n`);
      else shown = narrowed;
    }
  } finally {
    rl.close();
  }
}
