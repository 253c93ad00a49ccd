// The schema validator the JSON output tests rely on: it accepts what the schemas describe and rejects each
// kind of wrong document, so a passing output test means something.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT } from '../helpers/cli.js';
import { validate, type Schema } from '../helpers/json-schema.js';

const test = suite('json-schema helper');

const schema: Schema = {
  type: 'object',
  properties: {
    state: { type: 'string', enum: ['ready', 'failed'] },
    count: { type: 'integer' },
    at: { type: 'string', format: 'date-time' },
    address: { type: ['string', 'null'] },
    tags: { type: 'array', items: { type: 'string', pattern: '^[a-z-]+$' } },
    entry: {
      oneOf: [
        {
          type: 'object',
          properties: { kind: { const: 'a' } },
          required: ['kind'],
          additionalProperties: false,
        },
        {
          type: 'object',
          properties: { kind: { const: 'b' }, n: { type: 'number' } },
          required: ['kind', 'n'],
        },
      ],
    },
  },
  required: ['state', 'count'],
  additionalProperties: false,
};
const good = {
  state: 'ready',
  count: 3,
  at: '2026-01-02T03:04:05.678Z',
  address: null,
  tags: ['a-b'],
  entry: { kind: 'b', n: 1.5 },
};

test('a valid document has no errors', () => {
  assert.equal(validate(schema, good), []);
  assert.equal(validate(schema, { state: 'failed', count: 0, address: '127.0.0.1:1' }), []);
});

test('each kind of wrong document is rejected, with its path', () => {
  const bad = (patch: Record<string, unknown>, expected: RegExp) => {
    const errors = validate(schema, { ...good, ...patch });
    assert.ok(
      errors.some((e) => expected.test(e)),
      `${JSON.stringify(patch)}: ${errors.join('; ')}`,
    );
  };
  bad({ state: '✅ Connected' }, /^\$\.state: "✅ Connected" is not one of/);
  bad({ count: '3' }, /^\$\.count: expected integer, got string/);
  bad({ count: 1.5 }, /^\$\.count: expected integer, got number/);
  bad({ at: 1767322045678 }, /^\$\.at: expected string, got integer/);
  bad({ at: 'Jan 2, 03:04' }, /^\$\.at: "Jan 2, 03:04" is not an RFC 3339 date-time/);
  bad({ at: '2026-13-45T99:00:00Z' }, /not an RFC 3339 date-time/);
  bad({ address: 5 }, /^\$\.address: expected string or null/);
  bad({ tags: ['ok', 'Not OK'] }, /^\$\.tags\[1\]: "Not OK" does not match/);
  bad({ tags: 'x' }, /^\$\.tags: expected array/);
  bad({ extra: 1 }, /^\$: "extra" is not allowed/);
  bad({ entry: { kind: 'c' } }, /^\$\.entry: matches none of oneOf/);
  bad({ entry: { kind: 'a', n: 1 } }, /^\$\.entry: matches none of oneOf/);
  const missing = validate(schema, { state: 'ready' });
  assert.equal(missing, ['$: "count" is required']);
  assert.equal(validate({ type: 'object' }, []), ['$: expected object, got array']);
});

test('oneOf that matches more than one branch is rejected', () => {
  const two: Schema = { oneOf: [{ type: 'string' }, { type: 'string', enum: ['x'] }] };
  assert.equal(validate(two, 'x'), ['$: matches 2 of oneOf, not exactly one']);
});

test('an unsupported keyword is an error, not silently ignored', () => {
  assert.throws(() => validate({ minimum: 1 } as Schema, 0), /keyword "minimum"/);
});

test('every schema in schemas/ is draft 2020-12 and uses only the supported keywords', () => {
  for (const name of ['status', 'profiles', 'plugins', 'roles', 'check']) {
    const s = JSON.parse(readFileSync(join(REPO_ROOT, 'schemas', `${name}.schema.json`), 'utf8')) as Schema;
    assert.is(s.$schema, 'https://json-schema.org/draft/2020-12/schema');
    // An empty object exercises the keywords at the top; validate throws on unknown ones anywhere it walks.
    assert.ok(validate(s, {}).length > 0, `${name}: {} is not a valid output`);
  }
});

test.run();
