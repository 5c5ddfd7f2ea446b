import { describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  ChannelOpenError,
  ConnectError,
  ConnectionLostError,
  ExitStatusError,
  HostKeyRejectedError,
  ProtocolError,
  SshError,
  StdinOverflowError,
  TimeoutError,
} from '../lib/index.js';

const ctx = { host: 'example.org', port: 2222, phase: 'exec' as const, cause: new Error('root') };

describe('errors', () => {
  it('every class is an SshError with a stable code, name, context and cause', () => {
    const all: Array<[SshError, string]> = [
      [new ConnectError('x', ctx), 'ERR_SSH_CONNECT'],
      [new TimeoutError(5, ctx), 'ERR_SSH_TIMEOUT'],
      [new HostKeyRejectedError('x', 'SHA256:abc', ctx), 'ERR_SSH_HOST_KEY_REJECTED'],
      [new AuthenticationError('x', ['password'], null, ctx), 'ERR_SSH_AUTH'],
      [new ChannelOpenError('x', 1, ctx), 'ERR_SSH_CHANNEL_OPEN'],
      [new ExitStatusError('ls', 2, null, 'oops', ctx), 'ERR_SSH_EXIT_STATUS'],
      [new ConnectionLostError('x', ctx), 'ERR_SSH_CONNECTION_LOST'],
      [new ProtocolError('x', ctx), 'ERR_SSH_PROTOCOL'],
      [new StdinOverflowError(10, ctx), 'ERR_SSH_STDIN_OVERFLOW'],
    ];
    for (const [err, code] of all) {
      expect(err).toBeInstanceOf(SshError);
      expect(err).toBeInstanceOf(Error);
      expect(err.code).toBe(code);
      expect(err.name).toBe(err.constructor.name);
      expect(err.host).toBe('example.org');
      expect(err.port).toBe(2222);
      expect(err.phase).toBe('exec');
      expect(err.cause).toBe(ctx.cause);
      expect(err.message).toContain('example.org:2222');
    }
  });

  it('ExitStatusError says how the command ended', () => {
    expect(new ExitStatusError('ls', 2, null, '', ctx).message).toMatch(/exited with status 2/);
    expect(new ExitStatusError('ls', null, 'KILL', '', ctx).message).toMatch(/killed by signal KILL/);
    expect(new ExitStatusError('ls', null, null, '', ctx).message).toMatch(/without an exit status/);
  });

  it('AuthenticationError lists methods tried and left', () => {
    const e = new AuthenticationError('refused', ['password', 'publickey'], ['publickey'], ctx);
    expect(e.message).toMatch(/tried \[password, publickey\], server allows \[publickey\]/);
  });
});

describe('error names and codes are literals, every class lives in errors.ts', () => {
  it('name is the class name as a literal (not constructor.name, which minifiers rename), also in the stack header', async () => {
    const errors = await import('../lib/errors.js');
    const entry = { file: 'known_hosts', line: 3, key: Buffer.from('key') };
    const made: Array<[SshError, string, string]> = [
      [new errors.HostKeyUnknownError('x', 'SHA256:a', ctx), 'HostKeyUnknownError', 'ERR_SSH_HOST_KEY_UNKNOWN'],
      [new errors.HostKeyMismatchError(entry, 'SHA256:a', ctx), 'HostKeyMismatchError', 'ERR_SSH_HOST_KEY_MISMATCH'],
      [new errors.HostKeyRevokedError(entry, 'SHA256:a', ctx), 'HostKeyRevokedError', 'ERR_SSH_HOST_KEY_REVOKED'],
      [new errors.SftpError('stat', '/x', Object.assign(new Error('no such file'), { code: 2 }), ctx), 'SftpError', 'ERR_SSH_SFTP'],
      [new errors.ChannelClosedError('x', ctx), 'ChannelClosedError', 'ERR_SSH_CHANNEL_CLOSED'],
      [new errors.Ssh2CompatibilityError('x', ctx), 'Ssh2CompatibilityError', 'ERR_SSH2_INCOMPATIBLE'],
      [new ProtocolError('x', ctx), 'ProtocolError', 'ERR_SSH_PROTOCOL'],
    ];
    for (const [err, name, code] of made) {
      expect(err.name).toBe(name);
      expect(err.code).toBe(code);
      expect(String(err)).toMatch(new RegExp(`^${name}: `));
      expect(err.stack?.split('\n')[0]).toMatch(new RegExp(`^${name}: `));
    }
    // Every exported SshError subclass is defined in errors.ts.
    const index = await import('../lib/index.js');
    const classes = Object.entries(index).filter(([, v]) => typeof v === 'function' && v.prototype instanceof SshError).map(([k]) => k);
    expect(classes.filter((k) => !(k in errors))).toEqual([]);
  });
});

describe('errors carry their own wire form (toJSON, errorFromData)', () => {
  it('every class comes back as itself through JSON: class, message, fields, cause', async () => {
    const lib = await import('../lib/index.js');
    const where = { host: 'h', port: 22, phase: 'exec' as const, cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) };
    const entry = { file: '/k', line: 3, key: Buffer.from('k') };
    const samples: SshError[] = [
      new lib.ConnectError('refused', where),
      new lib.TimeoutError(500, where),
      new lib.HostKeyRejectedError('no', 'SHA256:x', where),
      new lib.AuthenticationError('denied', ['password'], ['publickey'], where),
      new lib.ChannelOpenError('refused', 2, where),
      new lib.ExitStatusError('false', 1, null, 'tail', where),
      new lib.ConnectionLostError('gone', where),
      new lib.SshConfigError('ProxyCommand x: refused', 'proxycommand', '/cfg:4', where),
      new lib.ProtocolError('bad', where),
      new lib.Ssh2CompatibilityError('shape', where),
      new lib.HostKeyUnknownError('unknown', 'SHA256:x', where),
      new lib.HostKeyMismatchError(entry, 'SHA256:y', where),
      new lib.HostKeyRevokedError(entry, 'SHA256:y', where, 'listed'),
      new lib.SftpError('close', '/f', Object.assign(new Error('Failure'), { code: 4 }), where),
      new lib.WorkerLostError('died', where),
      new lib.QueueError('redis', where),
      new lib.HostCertificateError('expired', 'id', 'SHA256:z', where),
    ];
    for (const error of samples) {
      const again = lib.errorFromData(JSON.parse(JSON.stringify(error)) as ReturnType<SshError['toJSON']>);
      expect(again, error.name).toBeInstanceOf(error.constructor);
      expect(again.message).toBe(error.message);
      expect({ ...again }).toEqual(JSON.parse(JSON.stringify({ ...error })));
      expect((again.cause as { code?: unknown } | undefined)?.code, error.name).toBe((error.cause as { code?: unknown }).code);
    }
    const plain = lib.errorFromData({ name: 'TypeError', message: 'bad', fields: {} });
    expect([plain instanceof SshError, plain.name, plain.message]).toEqual([false, 'TypeError', 'bad']);
  });
});
