// Behaving in a pipe: when the reader of stdout goes away (`stormtunnel profiles | head -1`, `| grep -q`),
// stop quietly with exit 0, as well-behaved CLIs do, instead of an unhandled EPIPE with a stack trace.

type Stopper = () => void;
const stoppers = new Set<Stopper>();
let installed = false;
let closed = false;

/** Installs the stdout/stderr error handlers once, in the CLI entry. */
export function handleClosedPipes(stdout: NodeJS.WriteStream, stderr: NodeJS.WriteStream): void {
  if (installed) return;
  installed = true;
  stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (!isClosedPipe(err)) throw err;
    if (closed) return;
    closed = true;
    // A long-running command (`up`) stops as on Ctrl-C, so its sessions end cleanly; others just exit.
    if (stoppers.size) for (const stop of stoppers) stop();
    else process.exit(0);
  });
  // Nowhere left to report a closed stderr: drop those writes and carry on.
  stderr.on('error', (err: NodeJS.ErrnoException) => {
    if (!isClosedPipe(err)) throw err;
  });
}

/**
 * For long-running commands: `stop` runs instead of an immediate exit when stdout's reader goes away.
 * Returns the unregister function.
 */
export function onStdoutClosed(stop: Stopper): () => void {
  stoppers.add(stop);
  return () => stoppers.delete(stop);
}

/** Whether stdout's reader went away: then nothing is left to do once the command returns. */
export function stdoutClosed(): boolean {
  return closed;
}

function isClosedPipe(err: NodeJS.ErrnoException): boolean {
  // ERR_STREAM_DESTROYED: a write after the EPIPE (e.g. `up`'s "stopping" line) on the now-dead stream.
  return err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED';
}
