/** The ssh2 reach-ins that only a real OpenSSH server can show (the rest: spec/ssh2/reach.spec.ts). */
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { Client, skipHostKeyProofs } from '../../lib/ssh2/index.js';
import { sshd } from '../helpers/index.js';

describe('ssh2 internals against sshd', () => {
  it('skipHostKeyProofs(): no proof request after login (ssh2 always sends one), an SSH_MSG_IGNORE instead', async () => {
    const info = sshd();
    const afterLogin = async (skip: boolean): Promise<{ proofs: number; ignores: number }> => {
      const client = new Client();
      const seen = await new Promise<{ proofs: number; ignores: number }>((resolve, reject) => {
        client.on('error', reject);
        client.on('ready', () => {
          type Raw = { openssh_hostKeysProve: (...a: unknown[]) => unknown; _cipher: { encrypt: (packet: Buffer) => unknown } };
          const protocol = (client as unknown as { _protocol: Raw })._protocol;
          const proofs = vi.spyOn(protocol, 'openssh_hostKeysProve');
          let ignores = 0;
          const encrypt = protocol._cipher.encrypt.bind(protocol._cipher);
          protocol._cipher.encrypt = (packet: Buffer) => {
            if (packet[5] === 2) ignores++; // the message type follows the length and padding length
            return encrypt(packet);
          };
          // sshd announces its host keys right after authentication, before the channel is confirmed.
          client.exec('true', (err, stream) => {
            if (err) return reject(err);
            stream.resume();
            stream.on('close', () => resolve({ proofs: proofs.mock.calls.length, ignores }));
          });
        });
        client.connect({ host: '127.0.0.1', port: info.port, username: info.username, privateKey: readFileSync(info.keys['ed25519'] ?? ''), hostVerifier: () => true });
        if (skip) expect(skipHostKeyProofs(client)).toBe(true);
      });
      client.end();
      return seen;
    };
    expect(await afterLogin(false)).toEqual({ proofs: 1, ignores: 0 }); // the ssh2 behaviour this works around
    expect(await afterLogin(true)).toEqual({ proofs: 0, ignores: 1 });
  });
});
