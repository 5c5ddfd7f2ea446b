/**
 * Unknown host keys in the CLI, as `ssh` treats them: on a terminal the user is asked (with the
 * fingerprint; once for a whole list in `run`, never once per host) and a confirmed key is
 * recorded in the host's first user known_hosts file (no question without one); without a
 * terminal the error names the files read and the ways out.
 */
import { HostKeyUnknownError, knownHostsName, recordHostKey, type SshConfigHost } from '../index.js';
import type { Io } from './io.js';

/** A host whose key was unknown: where it is and what it offered. */
export interface UnknownHost {
  readonly host: string;
  readonly port: number;
  readonly error: HostKeyUnknownError;
  /** Its first `UserKnownHostsFile`, where a confirmed key is recorded (never a global file). */
  readonly file: string;
  /** Its `HashKnownHosts`: whether the recorded line names the host hashed (default true). */
  readonly hash?: boolean;
}

/** Where a key confirmed for `host` is recorded: its first user known_hosts file, or none with `UserKnownHostsFile none` (then ssh cannot record it either, and rxssh does not ask). */
export function learnFileOf(host: SshConfigHost): string | undefined {
  return host.userKnownHostsFiles.find((f) => f.toLowerCase() !== 'none');
}

/** `ssh-ed25519` → `ED25519`, as ssh names key types to people. */
function typeName(openssh: string): string {
  const type = openssh.split(' ')[0] ?? '';
  if (type.includes('ed25519')) return 'ED25519';
  if (type.startsWith('ecdsa')) return 'ECDSA';
  if (type.includes('rsa')) return 'RSA';
  return type;
}

/** Whether the CLI can ask about this host (a known_hosts policy refused it and said what it saw). */
export function canConfirm(err: unknown): err is HostKeyUnknownError & { readonly offeredKey: string } {
  // Not a host known by other key types (or through a CA): ssh does not offer to add a key then.
  return err instanceof HostKeyUnknownError && err.offeredKey !== undefined && err.knownHostsFiles.length > 0 && err.knownTypes.length === 0;
}

/**
 * Asks once on the terminal about `hosts` (ssh's question for one host, a list for more) and
 * records the keys confirmed; resolves with the hosts to try again.
 */
export async function confirmUnknownHosts(hosts: readonly UnknownHost[], io: Io): Promise<UnknownHost[]> {
  if (hosts.length === 0) return [];
  const first = hosts[0] as UnknownHost;
  const text =
    hosts.length === 1
      ? [
          `The authenticity of host '${knownHostsName(first.host, first.port)}' can't be established.`,
          `${typeName(first.error.offeredKey ?? '')} key fingerprint is ${first.error.fingerprint}.`,
          'This key is not known by any other names.',
          'Are you sure you want to continue connecting (yes/no/[fingerprint])? ',
        ].join('\n')
      : [
          `The authenticity of ${hosts.length} hosts can't be established:`,
          ...hosts.map((h) => `  ${knownHostsName(h.host, h.port)}  ${typeName(h.error.offeredKey ?? '')} ${h.error.fingerprint}`),
          `Are you sure you want to continue connecting to all ${hosts.length} (yes/no)? `,
        ].join('\n');
  let answer: string;
  try {
    answer = (await io.prompt(text)).trim();
  } catch {
    return [];
  }
  const yes = answer.toLowerCase() === 'yes' || (hosts.length === 1 && answer === first.error.fingerprint);
  if (!yes) return [];
  for (const h of hosts) {
    await recordHostKey(h.file, h.host, h.port, h.error.offeredKey ?? '', h.hash ?? true);
    io.stderr.write(`Warning: Permanently added '${knownHostsName(h.host, h.port)}' (${typeName(h.error.offeredKey ?? '')}) to the list of known hosts.\n`);
  }
  return [...hosts];
}

/** What to do about an unknown host without a terminal: the files read and the ways out. */
export function unknownHostAdvice(err: unknown): string {
  if (!(err instanceof HostKeyUnknownError) || err.knownHostsFiles.length === 0) return '';
  const file = err.knownHostsFiles[0] ?? '~/.ssh/known_hosts';
  const port = err.port === 22 ? '' : `-p ${err.port} `;
  return `; known_hosts read: ${err.knownHostsFiles.join(', ')}; to trust it: --accept-new, or ssh-keyscan ${port}${err.host} >> ${file} (after checking the fingerprint)`;
}
