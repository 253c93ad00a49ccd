// The tunnel of `start --json` and of `tunnel`/`reload --json` is the tunnel of `status --json`: the schemas
// repeat it (the validator takes no $ref), so this keeps the copies the same as the original.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT } from '../helpers/cli.js';

type Json = Record<string, unknown>;
const schema = (name: string) => JSON.parse(readFileSync(join(REPO_ROOT, 'schemas', name), 'utf8')) as Json;
const at = (o: unknown, path: string[]): unknown => path.reduce((v, k) => (v as Json | undefined)?.[k], o);

test('start and control schemas describe a tunnel exactly as the status schema does', () => {
  const tunnel = at(schema('status.schema.json'), ['properties', 'tunnels', 'items']);
  assert.ok(tunnel, 'status.schema.json has a tunnel item');
  assert.equal(at(schema('start.schema.json'), ['properties', 'tunnels', 'items']), tunnel);
  assert.equal(
    at(schema('control.schema.json'), ['properties', 'processes', 'items', 'properties', 'tunnels', 'items']),
    tunnel,
  );
});

test.run();
