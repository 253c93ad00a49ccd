// Calls back when the config file changes. The folder is watched, not the file: editors save by writing a
// new file and renaming it over the old one, which ends a watch on the file itself (inotify follows the
// inode). Events come in bursts (write, chmod, rename), so they are gathered for a moment first.
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

const SETTLE_MS = 300;

export function watchConfigFile(
  file: string,
  onChange: () => void,
  onError: (err: Error) => void,
): () => void {
  const name = basename(file);
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
      if (changed !== null && changed !== name) return;
      clearTimeout(timer);
      timer = setTimeout(onChange, SETTLE_MS);
    });
    watcher.on('error', onError);
  } catch (err) {
    onError(err as Error);
  }
  return () => {
    clearTimeout(timer);
    watcher?.close();
  };
}
