/** Runs the in-process test server in its own process (so its memory is not the client's). */
import { testServer } from '../lib/testing/index.js';

testServer({}).subscribe((info) => {
  process.stdout.write(`${JSON.stringify({ host: info.host, port: info.port, username: info.username, password: info.password, fingerprint: info.hostKey.fingerprint })}\n`);
});
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
