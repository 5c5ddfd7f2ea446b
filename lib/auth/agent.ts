/** `agent()` and `agentCertificate()`: the keys and certificates an ssh-agent holds, as providers. */
import { defer, EMPTY, of, switchMap } from 'rxjs';
import { utils, type ParsedKey } from '../ssh2/index.js';
import { AGENT_SIGNER, CERTIFICATE, certificateValidity, parseCertificate, summarize, type AgentSigner } from './certificate.js';
import { AGENT_RSA_SHA2_256, AGENT_RSA_SHA2_512, agentIdentities, agentSign, socketAgent } from './agent-client.js';
import { keyTypeOf } from '../util/key-blob.js';
import { type AuthProvider } from './providers.js';

/**
 * Authentication with an OpenSSH certificate held by an SSH agent (`ssh-add` of a key with its
 * `-cert.pub` beside it): offers the agent's first certificate that is valid now, signed by the
 * agent. ssh2's own agent support cannot list certificates; put this provider before
 * {@link agent}, which offers the agent's plain keys.
 *
 * @remarks
 * Certificates that are expired or not yet valid are skipped with a `skipped` event on `auth$`.
 * With no agent socket, or no certificate in the agent, the provider is skipped.
 *
 * @param socketPath - the agent's Unix socket (default `process.env.SSH_AUTH_SOCK`).
 * @example
 * ```ts
 * import { authenticate, agent, agentCertificate } from 'rxssh';
 *
 * authenticate(agentCertificate(), agent());
 * ```
 */
export function agentCertificate(socketPath?: string): AuthProvider {
  checkSocketPath('agentCertificate', socketPath);
  return {
    method: 'publickey',
    label: 'agent (certificate)',
    credential: ({ username, report, signal }) =>
      defer(async () => {
        const path = socketPath ?? process.env['SSH_AUTH_SOCK'];
        if (!path) return undefined;
        let identities: Awaited<ReturnType<typeof agentIdentities>>;
        try {
          identities = await agentIdentities(path, signal ? { signal } : {});
        } catch {
          return undefined; // no usable agent: skipped, as agent() skips
        }
        for (const { blob } of identities) {
          if (!/-cert-v01@openssh\.com$/.test(keyTypeOf(blob) ?? '')) continue;
          let cert: ReturnType<typeof parseCertificate>;
          try {
            cert = parseCertificate(blob);
          } catch {
            continue;
          }
          const validity = certificateValidity(cert);
          if (validity !== 'valid') {
            report({ type: 'skipped', provider: 'agent (certificate)', reason: validity, certificate: summarize(cert) });
            continue;
          }
          const sign: AgentSigner = (data, algorithm) =>
            agentSign(path, blob, data, algorithm === 'rsa-sha2-512' ? AGENT_RSA_SHA2_512 : algorithm === 'rsa-sha2-256' ? AGENT_RSA_SHA2_256 : 0, signal ? { signal } : {});
          // The certified public key, parsed by ssh2 (so ssh2 takes it as a key), standing in
          // for the private key the agent holds: rxssh's certificate request signs through the agent.
          const base = utils.parseKey(`${cert.keyType} ${cert.publicKey.toString('base64')}`);
          const parsed = Array.isArray(base) ? base[0] : base;
          if (!parsed || parsed instanceof Error) continue;
          const key = Object.assign(Object.create(parsed) as ParsedKey, { isPrivateKey: () => true, [CERTIFICATE]: cert, [AGENT_SIGNER]: sign });
          return { type: 'publickey' as const, username, key };
        }
        return undefined;
      }).pipe(switchMap((credential) => (credential ? of(credential) : EMPTY))),
  };
}

/** An agent socket path given to `name()`: a non-empty string, or nothing (then SSH_AUTH_SOCK). */
function checkSocketPath(name: string, socketPath: string | undefined): void {
  if (socketPath !== undefined && (typeof socketPath !== 'string' || socketPath === '')) throw new TypeError(`${name}() takes a socket path`);
}

/**
 * Public-key authentication through an SSH agent (every key the agent holds, in order).
 *
 * @remarks
 * Uses `SSH_AUTH_SOCK` unless a socket path is given. With no agent socket at all the provider
 * is skipped, so `authenticate(agent(), privateKey(…))` works on machines without an agent.
 *
 * @param socketPath - the agent's Unix socket (default `process.env.SSH_AUTH_SOCK`).
 * @example
 * ```ts
 * import { agent } from 'rxssh';
 *
 * agent();                        // $SSH_AUTH_SOCK
 * agent('/run/user/1000/agent');  // a given socket
 * ```
 */
export function agent(socketPath?: string): AuthProvider {
  checkSocketPath('agent', socketPath);
  return {
    method: 'publickey',
    label: 'agent',
    credential: ({ username, signal }) =>
      defer(() => {
        const path = socketPath ?? process.env['SSH_AUTH_SOCK'];
        // rxssh's own agent client: replies capped at 256 KiB, requests ended with the attempt.
        return path ? of({ type: 'agent' as const, username, agent: socketAgent(path, signal ?? new AbortController().signal) }) : EMPTY;
      }),
  };
}
