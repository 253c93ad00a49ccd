// Where and why a JSON text is not JSON. Node 20's JSON.parse says neither for most mistakes ("Unexpected
// token '}', <the whole text> is not valid JSON"), so a strict scanner finds the first error itself.

export interface JsonSyntaxError {
  /** 1-based. */
  line: number;
  /** 1-based, in characters. */
  column: number;
  reason: string;
}

class Stop extends Error {
  constructor(
    readonly at: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** The first syntax error in `text` as JSON.parse reads it, or undefined when it is valid JSON. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  let i = 0;
  const fail = (reason: string, at = i) => new Stop(at, reason);
  const describe = (at = i): string => {
    const ch = text[at];
    if (ch === undefined) return 'the end of the file';
    if (ch === '/' && (text[at + 1] === '/' || text[at + 1] === '*')) return 'a comment (JSON has none)';
    if (ch === "'") return "' (JSON strings use double quotes)";
    if (ch === '\n' || ch === '\r') return 'a line break';
    return JSON.stringify(ch).replace(/^"|"$/g, "'");
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const string = () => {
    const start = i++;
    for (;;) {
      const ch = text[i];
      if (ch === undefined) throw fail('a string that is never closed', start);
      if (ch === '"') {
        i++;
        return;
      }
      if (ch === '\\') {
        const esc = text[i + 1];
        if (esc === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6)))
            throw fail('a \\u escape without 4 hex digits');
          i += 6;
        } else if (esc !== undefined && '"\\/bfnrt'.includes(esc)) i += 2;
        else throw fail(`an unknown escape \\${esc ?? ''} in a string`);
      } else if (ch.charCodeAt(0) < 0x20) throw fail(`${describe()} inside a string`);
      else i++;
    }
  };
  const value = (): void => {
    ws();
    const ch = text[i];
    if (ch === '{') return object();
    if (ch === '[') return array();
    if (ch === '"') return string();
    if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) {
      const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i));
      if (!m) throw fail('a malformed number');
      i += m[0].length;
      return;
    }
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return;
      }
    }
    throw fail(`unexpected ${describe()}, expected a value`);
  };
  const list = (close: '}' | ']', item: () => void) => {
    i++;
    ws();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      item();
      ws();
      if (text[i] === close) {
        i++;
        return;
      }
      if (text[i] !== ',') throw fail(`unexpected ${describe()}, expected ',' or '${close}'`);
      const comma = i++;
      ws();
      if (text[i] === close) throw fail(`a trailing comma before '${close}'`, comma);
    }
  };
  const object = () =>
    list('}', () => {
      ws();
      if (text[i] !== '"') throw fail(`unexpected ${describe()}, expected a property name in double quotes`);
      string();
      ws();
      if (text[i] !== ':') throw fail(`unexpected ${describe()}, expected ':' after the property name`);
      i++;
      value();
    });
  const array = () => list(']', value);

  try {
    if (text.charCodeAt(0) === 0xfeff) i = 1;
    value();
    ws();
    if (i < text.length) throw fail(`unexpected ${describe()} after the end of the JSON value`);
    return undefined;
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
    const before = text.slice(0, err.at);
    const line = before.split('\n').length;
    const column = err.at - (before.lastIndexOf('\n') + 1) + 1;
    return { line, column, reason: err.reason };
  }
}
