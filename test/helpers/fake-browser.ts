// What a browser opening would do (xdg-open honours $BROWSER): leave the URL it was given in a file. The
// file appears whole (written beside it, then renamed), so a test that sees it can read the URL at once.
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface FakeBrowser {
  /** The program to put in $BROWSER. */
  command: string;
  /** The file that holds the last URL opened; absent until a browser was opened. */
  marker: string;
}

export function fakeBrowser(dir: string): FakeBrowser {
  const marker = join(dir, 'browser-opened');
  const command = join(dir, 'fake-browser');
  writeFileSync(command, `#!/bin/sh\necho "$1" > '${marker}.$$' && mv '${marker}.$$' '${marker}'\n`);
  chmodSync(command, 0o755);
  return { command, marker };
}
