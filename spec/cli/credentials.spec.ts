/** The CLI's credentials per host: the providers follow every setting of the host they depend on. */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { hostCredentials, Secrets } from '../../lib/cli/credentials.js';
import type { Io } from '../../lib/cli/io.js';
import { fromSshConfig } from '../../lib/index.js';

const io = (): Io => ({
  stdout: new PassThrough(),
  stderr: new PassThrough(),
  stderrIsTTY: false,
  stdinIsTTY: false,
  env: { HOME: '/nonexistent-home', SSH_AUTH_SOCK: '/tmp/default-agent.sock' },
  readStdin: async () => Buffer.alloc(0),
  stdin: new PassThrough(),
  releaseStdin: () => undefined,
  prompt: async () => '',
  onInterrupt: () => () => undefined,
  exit: () => undefined,
});

describe('hostCredentials', () => {
  it('two hosts of one run with the same identity files but another IdentityAgent each get their own agent (the first host\'s was reused)', () => {
    const secrets = new Secrets({ identities: [], passwordEnv: undefined, passphraseEnv: undefined, askPassword: false }, io());
    const host = (...extra: string[]) => fromSshConfig('h', { file: null, systemFile: null, home: '/nonexistent-home', extra: ['IdentityFile /nonexistent/id', ...extra] });
    const labels = (h: ReturnType<typeof host>): string[] => hostCredentials(h, secrets).providers.map((p) => p.label);
    expect(labels(host())).toEqual(['agent (certificate)', 'agent']);
    expect(labels(host('IdentityAgent none'))).toEqual([]);
    expect(hostCredentials(host('IdentityAgent none'), secrets).lookedFor).toMatch(/^no agent/);
  });
});
