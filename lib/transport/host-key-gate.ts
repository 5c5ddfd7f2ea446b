/**
 * The host-key gate: where ssh2's `hostVerifier` waits for the pipeline's verify stage. The
 * first key is held until `answer()`; a host certificate gets its exchange signature checked
 * against the certified key; a re-key must bring the very key accepted before. A rejection is
 * recorded before ssh2 reports its own error, so the typed error wins.
 */
import { HostKeyRejectedError, ProtocolError, type SshError, type SshPhase } from '../errors.js';
import { parseCertificate, type ParsedCertificate } from '../auth/certificate.js';
import { acceptCertificateSignature } from '../ssh2/index.js';
import { keyTypeOf, rsaBitsOf } from '../util/key-blob.js';
import { describeHostKey } from './host-key-info.js';
import type { HostKeyInfo } from './transport.js';

/** What the gate needs of its connection. */
export interface HostKeyGateHost {
  readonly host: string;
  readonly port: number;
  /** The ssh2 client (a certificate's signature check reaches into its key exchange). */
  readonly client: object;
  /** True once the connection ended or failed. */
  isFinished(): boolean;
  setPhase(phase: SshPhase): void;
  /** The key waits for the verify stage: tell the `connect()` subscriber. */
  offer(key: HostKeyInfo): void;
  /** The smallest RSA host key accepted, in bits (ssh_config `RequiredRSASize`; OpenSSH's 1024). */
  readonly requiredRsaSize: number;
  /** The server's IP address, when the stream is a TCP connection of rxssh's own. */
  address(): string | undefined;
  fail(error: SshError): void;
}

/** One connection's host-key gate. */
export class HostKeyGate {
  /** The key the server offered first (what the verify stage judges). */
  hostKey: HostKeyInfo | undefined;
  /** Why the key was rejected, once it was. */
  rejection: SshError | undefined;

  readonly #host: HostKeyGateHost;
  #verify: ((ok: boolean) => void) | undefined;
  #accepted: Buffer | undefined;

  constructor(host: HostKeyGateHost) {
    this.#host = host;
  }

  /** ssh2's `hostVerifier`. */
  onKey(key: Buffer, verify: (ok: boolean) => void): void {
    const h = this.#host;
    if (h.isFinished()) return verify(false);
    if (keyTypeOf(key)?.endsWith('-cert-v01@openssh.com') && !this.#checkCertificateSignature(key)) {
      return this.#refuse(verify, new ProtocolError('The server sent a host certificate rxssh cannot check', { host: h.host, port: h.port, phase: 'kex' }));
    }
    if (this.#accepted) {
      // A re-key: the key must not change under an established connection.
      if (key.equals(this.#accepted)) return verify(true);
      const fingerprint = describeHostKey(key, h.host, h.port).fingerprint;
      return this.#refuse(verify, new HostKeyRejectedError('Host key changed during re-key', fingerprint, { host: h.host, port: h.port, phase: 'kex' }));
    }
    if (this.#verify) return verify(false);
    const bits = rsaBitsOf(key);
    if (bits !== undefined && bits < h.requiredRsaSize) {
      const fingerprint = describeHostKey(key, h.host, h.port).fingerprint;
      return this.#refuse(verify, new HostKeyRejectedError(`RSA host key of ${bits} bits is below RequiredRSASize ${h.requiredRsaSize}`, fingerprint, { host: h.host, port: h.port, phase: 'host-key' }));
    }
    h.setPhase('host-key');
    this.hostKey = describeHostKey(key, h.host, h.port, h.address());
    this.#verify = verify;
    h.offer(this.hostKey);
  }

  /** The verify stage's answer. `error` is what the pipeline fails with on reject. */
  answer(ok: boolean, error?: SshError): void {
    const h = this.#host;
    if (h.isFinished()) return;
    const rejected = (): SshError => error ?? new HostKeyRejectedError('Host key rejected', this.hostKey?.fingerprint, { host: h.host, port: h.port, phase: 'host-key' });
    const verify = this.#verify;
    if (!verify) {
      // A later verify stage of a key an earlier stage already accepted: ssh2 has its answer,
      // but a rejection still ends the connection at once (no credential has been sent: the
      // authenticate stage only starts once every verify stage has passed the Transport on).
      if (!ok && this.#accepted) {
        this.rejection = rejected();
        h.fail(this.rejection);
      }
      return;
    }
    this.#verify = undefined;
    if (ok && this.hostKey) {
      this.#accepted = this.hostKey.key;
      h.setPhase('kex');
      verify(true);
      return;
    }
    this.#refuse(verify, rejected());
  }

  /** Forgets a waiting verifier (the connection ends). */
  stop(): void {
    this.#verify = undefined;
  }

  /** A host certificate: ssh2 must check the exchange signature with the certified key. */
  #checkCertificateSignature(key: Buffer): boolean {
    let cert: ParsedCertificate | undefined;
    try {
      cert = parseCertificate(key);
    } catch {
      return false;
    }
    return acceptCertificateSignature(this.#host.client, key, cert.publicKey, cert.keyType);
  }

  /** Recorded first: ssh2 reports the refusal as an 'error' at once, which must not win. */
  #refuse(verify: (ok: boolean) => void, error: SshError): void {
    this.rejection = error;
    try {
      verify(false);
    } finally {
      this.#host.fail(error);
    }
  }
}
