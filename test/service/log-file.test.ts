// The service log's rotation: copied aside and truncated in place, so a writer with an O_APPEND fd (the
// service's stdout) keeps writing to the live file, at its new end.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rotateLog } from '../../src/service/log-file.js';

test('rotateLog: under the limit nothing moves; over it .1, .2 shift, the oldest goes, the fd writes on', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stormtunnel-log-'));
  try {
    const file = join(dir, 'service.log');
    const fd = openSync(file, 'a');
    writeSync(fd, 'first\n');
    assert.not.ok(rotateLog(file, 100, 2));
    writeSync(fd, 'x'.repeat(100) + '\n');
    assert.ok(rotateLog(file, 100, 2));
    assert.is(readFileSync(`${file}.1`, 'utf8'), 'first\n' + 'x'.repeat(100) + '\n');
    assert.is(readFileSync(file, 'utf8'), '');
    writeSync(fd, 'after\n');
    assert.is(readFileSync(file, 'utf8'), 'after\n', 'written at the new end, no hole');
    writeFileSync(`${file}.2`, 'oldest\n');
    writeSync(fd, 'y'.repeat(100) + '\n');
    assert.ok(rotateLog(file, 100, 2));
    assert.is(readFileSync(`${file}.2`, 'utf8'), 'first\n' + 'x'.repeat(100) + '\n', 'oldest dropped');
    assert.ok(readFileSync(`${file}.1`, 'utf8').startsWith('after\n'));
    closeSync(fd);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
