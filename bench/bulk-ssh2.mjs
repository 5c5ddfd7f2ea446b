// The baseline of bulk-rxssh.mjs: the same bytes through a plain ssh2 client, in a process
// of its own that loads ssh2 and Node's built-ins only (no rxssh, no rxjs). Arguments: see
// bulk-common.mjs.
import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';
import { args, BLOCK, COMMAND, report, SIZE } from './bulk-common.mjs';

const { mode, host, port, user, key, fingerprint, algorithms } = args;

await report(
  () =>
    new Promise((resolve, reject) => {
      const client = new ssh2.Client();
      let received = 0;
      client.on('error', reject);
      client.on('ready', () => {
        client.exec(COMMAND, (err, stream) => {
          if (err) return reject(err);
          stream.on('data', (d) => (received += d.length));
          stream.stderr.resume();
          stream.on('close', () => {
            client.end();
            resolve(received);
          });
          if (mode === 'download') return stream.end();
          let sent = 0;
          const pump = () => {
            while (sent < SIZE) {
              sent += BLOCK.length;
              if (!stream.write(BLOCK)) return stream.once('drain', pump);
            }
            stream.end();
          };
          pump();
        });
      });
      const hostVerifier = (k) => `SHA256:${createHash('sha256').update(k).digest('base64').replace(/=+$/, '')}` === fingerprint;
      client.connect({ host, port, username: user, privateKey: key, ...(algorithms ? { algorithms } : {}), hostVerifier });
    }),
);
