// Runs a credential_process that does not exist, with a long timeout, and prints the error. The process
// must then end by itself: nothing (no timer) may keep it alive once the command has failed to start.
import { runCredentialProcess } from '../../../src/aws/credentials.js';

const [command, timeoutMs] = process.argv.slice(2);
if (!command || !timeoutMs) throw new Error('usage: missing-command <command> <timeoutMs>');
try {
  await runCredentialProcess(
    command,
    { file: '/tmp/config', profile: 'missing' },
    { timeoutMs: Number(timeoutMs) },
  );
  console.log('no error');
} catch (err) {
  console.log((err as Error).message);
}
