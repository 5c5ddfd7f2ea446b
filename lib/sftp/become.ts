/**
 * An SFTP session as another user (`put`/`get --sudo`): the SFTP server started by sudo on an
 * exec channel (`sudo -S -p MARKER -u USER -- /bin/sh -c 'echo OK >&2; exec sftp-server'`), the
 * password written only when sudo's prompt appears (once: a second prompt is a BecomeError), and
 * the channel handed to ssh2's SFTP client once the start marker arrives on stderr. Files are
 * then read and written with that user's rights, modes as asked.
 */
import { BecomeError } from '../errors.js';
import { sftpOnExecChannel, type ClientChannel, type SFTPWrapper } from '../ssh2/index.js';
import { becomeMarkers, checkBecome, reasonOf, sudoLine, type BecomeConfig } from '../channel/become.js';
import { shellQuote } from '../util/shell.js';

/** Where sftp-server usually is (Debian/Ubuntu, RHEL/Fedora, Arch, BSDs); the first executable one is run. */
export const SFTP_SERVER_PATHS = ['/usr/lib/openssh/sftp-server', '/usr/libexec/openssh/sftp-server', '/usr/lib/ssh/sftp-server', '/usr/libexec/sftp-server'];

/** What `sftpAs` needs of a connection. */
export interface SftpAsPort {
  readonly host: string;
  readonly port: number;
  readonly client: { exec(command: string, cb: (err: Error | undefined, channel: ClientChannel) => void): unknown };
}

/**
 * Opens the SFTP session as `become` says; `answered` once with the session or the error
 * (`BecomeError` when sudo refused). `server` is the sftp-server path (default: the first of
 * {@link SFTP_SERVER_PATHS} that exists).
 */
export function sftpAs(port: SftpAsPort, become: BecomeConfig, server: string | undefined, answered: (err: Error | undefined, sftp?: SFTPWrapper) => void): void {
  const { user, password } = checkBecome(become);
  const { prompt, ok } = becomeMarkers();
  const paths = (server ? [server] : SFTP_SERVER_PATHS).map(shellQuote).join(' ');
  const script = `echo ${ok} >&2; for p in ${paths}; do if [ -x "$p" ]; then exec "$p"; fi; done; echo 'rxssh: no sftp-server found (give sftpServer)' >&2; exit 127`;
  const command = sudoLine(user, prompt, { password: password !== undefined }, script);
  port.client.exec(command, (err, channel) => {
    if (err) return answered(err);
    let said = '';
    let prompts = 0;
    let settled = false;
    const where = { host: port.host, port: port.port, phase: 'sftp' as const };
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      channel.stderr.off('data', onStderr);
      channel.off('close', onClose);
      if (error) {
        channel.on('error', () => undefined);
        channel.close();
        return answered(error);
      }
      sftpOnExecChannel(port.client, channel, (e, sftp) => answered(e, sftp as SFTPWrapper | undefined));
    };
    const refuse = (reason: BecomeError['reason']): void => finish(new BecomeError(reason, 'sudo', user, said.split(prompt).join('').slice(-2048), where));
    const onStderr = (data: Buffer): void => {
      said += data.toString('latin1');
      for (let at = said.indexOf(prompt); at >= 0; at = said.indexOf(prompt)) {
        said = said.slice(0, at) + said.slice(at + prompt.length);
        if (++prompts > 1) return refuse('incorrect-password');
        if (password === undefined) return refuse('password-required');
        Promise.resolve(typeof password === 'function' ? password() : password).then(
          (pw) => void (settled || channel.write(`${pw}\n`)),
          () => refuse('password-required'),
        );
      }
      if (said.includes(`${ok}\n`)) finish();
    };
    const onClose = (): void => refuse(reasonOf(said));
    channel.stderr.on('data', onStderr);
    channel.on('close', onClose);
  });
}
