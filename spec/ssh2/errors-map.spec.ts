import { describe, expect, it } from 'vitest';
import { AuthenticationError, ConnectError, ConnectionLostError, ProtocolError, TimeoutError } from '../../lib/index.js';
import { fromSsh2Error, type ErrorState } from '../../lib/ssh2/errors-map.js';

const state = (phase: ErrorState['phase']): ErrorState => ({
  host: 'h',
  port: 2,
  phase,
  methodsTried: ['password'],
  methodsLeft: ['publickey'],
  keepaliveMs: 60_000,
});
const tagged = (message: string, fields: Record<string, unknown>) => Object.assign(new Error(message), fields);

describe('fromSsh2Error', () => {
  it('maps every ssh2 level to a typed error with context and cause', () => {
    const cases: Array<[Error, ErrorState, new (...a: never[]) => Error, string]> = [
      [tagged('connect ECONNREFUSED', { level: 'client-socket', code: 'ECONNREFUSED' }), state('tcp'), ConnectError, 'tcp'],
      [tagged('getaddrinfo ENOTFOUND', { level: 'client-socket', code: 'ENOTFOUND' }), state('dns'), ConnectError, 'dns'],
      [tagged('read ECONNRESET', { level: 'client-socket', code: 'ECONNRESET' }), state('exec'), ConnectionLostError, 'exec'],
      [tagged('Keepalive timeout', { level: 'client-timeout' }), state('connection'), TimeoutError, 'keepalive'],
      [tagged('All configured authentication methods failed', { level: 'client-authentication' }), state('auth'), AuthenticationError, 'auth'],
      [tagged('Too many authentication failures', { code: 2 }), state('auth'), AuthenticationError, 'auth'],
      [tagged('By application', { code: 11 }), state('connection'), ConnectionLostError, 'connection'],
      [tagged('Connection lost before handshake', { level: 'protocol' }), state('banner'), ConnectionLostError, 'banner'],
      [tagged('Bad packet length', { level: 'protocol' }), state('kex'), ProtocolError, 'kex'],
      [tagged('Handshake failed: no matching cipher', { level: 'handshake' }), state('kex'), ProtocolError, 'kex'],
    ];
    for (const [input, st, cls, phase] of cases) {
      const out = fromSsh2Error(input, st);
      expect(out, input.message).toBeInstanceOf(cls);
      expect(out.phase).toBe(phase);
      expect(out.host).toBe('h');
      expect(out.port).toBe(2);
      expect(out.cause).toBe(input);
    }
  });

  it('non-Error values still become typed errors', () => {
    expect(fromSsh2Error('weird', state('kex'))).toBeInstanceOf(ProtocolError);
  });
});
