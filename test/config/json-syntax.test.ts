// The JSON syntax locator agrees with JSON.parse on what is JSON, and says where and why the rest is not.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { findJsonSyntaxError } from '../../src/config/json-syntax.js';

const parses = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

test('mistakes people make, with their line, column and reason', () => {
  const cases: [string, number, number, string][] = [
    ['{"a": 1,}', 1, 8, "a trailing comma before '}'"],
    ['[1, 2,\n]', 1, 6, "a trailing comma before ']'"],
    [
      "{'a': 1}",
      1,
      2,
      "unexpected ' (JSON strings use double quotes), expected a property name in double quotes",
    ],
    [
      '{\n  // note\n  "a": 1\n}',
      2,
      3,
      'unexpected a comment (JSON has none), expected a property name in double quotes',
    ],
    ['{"a" 1}', 1, 6, "unexpected '1', expected ':' after the property name"],
    ['{"a": tru}', 1, 7, "unexpected 't', expected a value"],
    ['{"a": "x', 1, 7, 'a string that is never closed'],
    ['{"a": 01}', 1, 8, "unexpected '1', expected ',' or '}'"],
    ['{"a": 1} {"b": 2}', 1, 10, "unexpected '{' after the end of the JSON value"],
    ['', 1, 1, 'unexpected the end of the file, expected a value'],
    ['{"a": [1 2]}', 1, 10, "unexpected '2', expected ',' or ']'"],
    ['{"a": "\\q"}', 1, 8, 'an unknown escape \\q in a string'],
  ];
  for (const [text, line, column, reason] of cases) {
    assert.not.ok(parses(text), text);
    assert.equal(findJsonSyntaxError(text), { line, column, reason }, text);
  }
});

test('valid JSON has no error', () => {
  for (const text of ['{}', '[]', ' {"a": [1, -2.5e3, true, false, null, "x\\u00e9\\n"]} ', '"s"', '0']) {
    assert.ok(parses(text), text);
    assert.is(findJsonSyntaxError(text), undefined, text);
  }
});

test('agrees with JSON.parse on thousands of mutated documents', () => {
  const base = JSON.stringify(
    {
      tunnels: [{ name: 'db', remotePort: 5432, localPort: 0, autostart: true, note: 'a "b" \\ c' }],
      x: null,
    },
    null,
    2,
  );
  const pieces = ['{', '}', '[', ']', ',', ':', '"', '\\', ' ', '\n', '1', '-', 'e', '.', 't', 'n', "'", '/'];
  // A fixed seed: the same documents every run.
  let seed = 17;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let round = 0; round < 3000; round++) {
    let text = base;
    for (let edits = 1 + random(3); edits > 0; edits--) {
      const at = random(text.length + 1);
      const op = random(3);
      const piece = pieces[random(pieces.length)]!;
      if (op === 0) text = text.slice(0, at) + piece + text.slice(at);
      else if (op === 1) text = text.slice(0, at) + text.slice(at + 1);
      else text = text.slice(0, at) + piece + text.slice(at + 1);
    }
    assert.is(findJsonSyntaxError(text) === undefined, parses(text), JSON.stringify(text));
  }
});

test.run();
