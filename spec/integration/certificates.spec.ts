/**
 * OpenSSH user certificates against real sshd (`TrustedUserCAKeys`), each verdict beside what
 * OpenSSH's own `ssh` decides on the same files. The client keys here are in no
 * authorized_keys file: only a certificate signed by the CA lets them in.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, tap, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationError, HostCertificateError, HostKeyUnknownError, agent, agentCertificate, authenticate, connect, connectAlias, hostCertificateAuthority, knownHosts, pinned, privateKey, run, verifyHostKey, type AuthEvent } from '../../lib/index.js';
import { fanOut } from '../../lib/fleet/index.js';
import { errorOf, sshd } from '../helpers/index.js';
import { hostKeyLine, startSshd, type SshdInfo } from './sshd.js';

let s: SshdInfo;
let server: { info: SshdInfo; stop: () => Promise<void> };
let dir: string;

const keygen = (...args: string[]) => execFileSync('ssh-keygen', ['-q', ...args], { stdio: 'pipe' });
/** A fresh key pair `name` (in no authorized_keys), optionally signed by the CA. */
function key(name: string, type: string, sign?: { principals: string; validity: string; id?: string }): string {
  const file = join(dir, name);
  keygen('-t', type, ...(type === 'ecdsa' ? ['-b', '256'] : type === 'rsa' ? ['-b', '3072'] : []), '-N', '', '-f', file);
  if (sign) keygen('-s', join(dir, 'user_ca'), '-I', sign.id ?? `${name}-id`, '-n', sign.principals, '-V', sign.validity, '-z', '42', `${file}.pub`);
  return file;
}

beforeAll(async () => {
  s = sshd();
  dir = mkdtempSync(join(tmpdir(), 'rxssh-certs-'));
  keygen('-t', 'ed25519', '-N', '', '-f', join(dir, 'user_ca'));
  server = await startSshd({ account: s, extra: [`TrustedUserCAKeys ${join(dir, 'user_ca.pub')}`] });
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

/** What OpenSSH decides with `-i file` (it loads file-cert.pub by itself). */
const sshVerdict = (file: string): Promise<'accepted' | 'refused'> =>
  new Promise((resolve) =>
    execFile(
      'ssh',
      ['-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none', '-i', file, '-p', String(server.info.port), `${server.info.username}@127.0.0.1`, 'true'],
      (err) => resolve(err ? 'refused' : 'accepted'),
    ),
  );

/** rxssh's verdict for a key with its certificate, and the auth events it reported. */
async function rxsshVerdict(file: string, certificate?: string): Promise<{ verdict: 'accepted' | 'refused'; events: AuthEvent[] }> {
  const events: AuthEvent[] = [];
  try {
    await lastValueFrom(
      connect({ host: '127.0.0.1', port: server.info.port, username: server.info.username }).pipe(
        verifyHostKey(pinned(...Object.values(server.info.hostFingerprints))),
        tap((t) => t.auth$.subscribe({ next: (e) => events.push(e), error: () => undefined })),
        authenticate(privateKey(readFileSync(file), certificate === undefined ? {} : { certificate: readFileSync(certificate, 'utf8') })),
        run('true', { check: true }),
      ),
    );
    return { verdict: 'accepted', events };
  } catch (err) {
    if (err instanceof AuthenticationError) return { verdict: 'refused', events };
    throw err;
  }
}

describe('user certificates (TrustedUserCAKeys), beside OpenSSH', () => {
  it.each([
    ['ed25519', 'ssh-ed25519-cert-v01@openssh.com'],
    ['ecdsa', 'ecdsa-sha2-nistp256-cert-v01@openssh.com'],
    ['rsa', 'ssh-rsa-cert-v01@openssh.com'],
  ])('an %s key with a valid certificate logs in (auth$ shows the certificate), as with ssh', async (type, certType) => {
    const file = key(`valid_${type}`, type, { principals: server.info.username, validity: '-5m:+1h', id: `deploy-${type}` });
    const { verdict, events } = await rxsshVerdict(file, `${file}-cert.pub`);
    expect(verdict).toBe('accepted');
    expect(await sshVerdict(file)).toBe('accepted');
    const attempt = events.find((e) => e.type === 'attempt' && e.accepted);
    expect(attempt).toMatchObject({ certificate: { type: certType, keyId: `deploy-${type}`, serial: '42', principals: [server.info.username] } });
    const log = readFileSync(server.info.logFile, 'utf8');
    expect(log).toMatch(new RegExp(`Accepted publickey for ${server.info.username} .*ID deploy-${type}`));
  });

  it('the same key without its certificate is refused, as by ssh', async () => {
    const file = key('valid_plain', 'ed25519', { principals: server.info.username, validity: '-5m:+1h' });
    const bare = join(dir, 'bare_copy');
    copyFileSync(file, bare);
    expect((await rxsshVerdict(bare)).verdict).toBe('refused');
    expect(await sshVerdict(bare)).toBe('refused');
  });

  it('an expired certificate is skipped before it is offered (a skipped event says why); ssh refuses it too', async () => {
    const file = key('expired', 'ed25519', { principals: server.info.username, validity: '-2d:-1d' });
    const { verdict, events } = await rxsshVerdict(file, `${file}-cert.pub`);
    expect(verdict).toBe('refused');
    expect(events.find((e) => e.type === 'skipped')).toMatchObject({ type: 'skipped', reason: 'expired' });
    expect(events.filter((e) => e.type === 'attempt')).toHaveLength(0);
    expect(await sshVerdict(file)).toBe('refused');
  });

  it('a certificate not yet valid is skipped; ssh refuses it too', async () => {
    const file = key('future', 'ed25519', { principals: server.info.username, validity: '+1d:+2d' });
    const { verdict, events } = await rxsshVerdict(file, `${file}-cert.pub`);
    expect(verdict).toBe('refused');
    expect(events.find((e) => e.type === 'skipped')).toMatchObject({ reason: 'not-yet-valid' });
    expect(await sshVerdict(file)).toBe('refused');
  });

  it('a certificate for another principal is offered and refused by sshd, as for ssh', async () => {
    const file = key('wrong_principal', 'ed25519', { principals: 'somebody-else', validity: '-5m:+1h' });
    const { verdict, events } = await rxsshVerdict(file, `${file}-cert.pub`);
    expect(verdict).toBe('refused');
    expect(events.some((e) => e.type === 'attempt' && e.certificate !== undefined && !e.accepted)).toBe(true);
    expect(await sshVerdict(file)).toBe('refused');
  });

  it('a certificate of another key is skipped (wrong-key)', async () => {
    const a = key('pair_a', 'ed25519', { principals: server.info.username, validity: '-5m:+1h' });
    const b = key('pair_b', 'ed25519');
    const { verdict, events } = await rxsshVerdict(b, `${a}-cert.pub`);
    expect(verdict).toBe('refused');
    expect(events.find((e) => e.type === 'skipped')).toMatchObject({ reason: 'wrong-key' });
  });

  it('ssh_config: IDENTITY-cert.pub beside the key and CertificateFile are used by connectAlias', async () => {
    const beside = key('beside', 'ed25519', { principals: server.info.username, validity: '-5m:+1h' });
    const elsewhere = key('elsewhere', 'ecdsa', { principals: server.info.username, validity: '-5m:+1h' });
    const moved = join(dir, 'moved-cert.pub');
    renameSync(`${elsewhere}-cert.pub`, moved); // only the CertificateFile line finds it now
    const kh = join(dir, 'known_hosts');
    writeFileSync(kh, Object.keys(server.info.hostFingerprints).map((t) => `[127.0.0.1]:${server.info.port} ${hostKeyLine(server.info.dir, t)}`).join('\n') + '\n');
    const config = join(dir, 'ssh_config');
    writeFileSync(
      config,
      [
        'Host beside elsewhere',
        '  HostName 127.0.0.1',
        `  Port ${server.info.port}`,
        `  User ${server.info.username}`,
        '  IdentitiesOnly yes',
        `  UserKnownHostsFile ${kh}`,
        'Host beside',
        `  IdentityFile ${beside}`,
        'Host elsewhere',
        `  IdentityFile ${elsewhere}`,
        `  CertificateFile ${moved}`,
        '',
      ].join('\n'),
    );
    for (const alias of ['beside', 'elsewhere']) {
      const r = await lastValueFrom(connectAlias(alias, { file: config }).pipe(run('echo cert')));
      expect(r.stdout, alias).toBe('cert\n');
    }
    // Without the certificate file the key alone is refused: it really was the certificate.
    writeFileSync(moved, '');
    expect(await errorOf(connectAlias('elsewhere', { file: config }).pipe(run('true')))).toBeInstanceOf(AuthenticationError);
  });

  it('the CLI picks up IDENTITY-cert.pub (and --certificate FILE) like ssh', async () => {
    const file = key('cli', 'ed25519', { principals: server.info.username, validity: '-5m:+1h' });
    const other = join(dir, 'cli-cert-elsewhere.pub');
    const second = key('cli2', 'ed25519', { principals: server.info.username, validity: '-5m:+1h' });
    copyFileSync(`${second}-cert.pub`, other);
    execFileSync('rm', [`${second}-cert.pub`]);
    const cli = (args: string[]) =>
      new Promise<{ code: number; stdout: string }>((resolve) =>
        execFile(process.execPath, ['--import', 'tsx', 'lib/cli/bin.ts', ...args], { env: { ...process.env, SSH_AUTH_SOCK: '' } }, (err, stdout) =>
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout }),
        ),
      );
    const common = ['-F', '/dev/null', '-O', 'StrictHostKeyChecking=no', '-O', 'UserKnownHostsFile=/dev/null', '-l', server.info.username];
    expect(await cli(['exec', ...common, '--identity', file, `127.0.0.1:${server.info.port}`, 'echo', 'beside'])).toMatchObject({ code: 0, stdout: 'beside\n' });
    expect(await cli(['exec', ...common, '--identity', second, '--certificate', other, `127.0.0.1:${server.info.port}`, 'echo', 'given'])).toMatchObject({ code: 0, stdout: 'given\n' });
    expect((await cli(['exec', ...common, '--identity', second, `127.0.0.1:${server.info.port}`, 'true'])).code).toBe(255);
  });
});

describe('AuthorizedPrincipalsFile', () => {
  it('a certificate for a principal the file lists logs in; one naming only the user does not — as for ssh', async () => {
    // sshd reads the file as the user: it must be readable to them.
    const principalsDir = mkdtempSync(join(tmpdir(), 'rxssh-principals-'));
    chmodSync(principalsDir, 0o755);
    const principals = join(principalsDir, 'principals');
    writeFileSync(principals, 'deploy-role\n', { mode: 0o644 });
    const srv = await startSshd({ account: s, extra: [`TrustedUserCAKeys ${join(dir, 'user_ca.pub')}`, `AuthorizedPrincipalsFile ${principals}`] });
    try {
      const role = key('role', 'ed25519', { principals: 'deploy-role', validity: '-5m:+1h' });
      const user = key('role_user', 'ed25519', { principals: s.username, validity: '-5m:+1h' });
      const verdict = async (file: string) => {
        const rx = await lastValueFrom(
          connect({ host: '127.0.0.1', port: srv.info.port, username: s.username }).pipe(
            verifyHostKey(pinned(...Object.values(srv.info.hostFingerprints))),
            authenticate(privateKey(readFileSync(file), { certificate: readFileSync(`${file}-cert.pub`, 'utf8') })),
            run('true'),
          ),
        ).then(
          () => 'accepted',
          (err: unknown) => (err instanceof AuthenticationError ? 'refused' : String(err)),
        );
        const ssh = await new Promise<string>((resolve) =>
          execFile(
            'ssh',
            ['-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none', '-i', file, '-p', String(srv.info.port), `${s.username}@127.0.0.1`, 'true'],
            (err) => resolve(err ? 'refused' : 'accepted'),
          ),
        );
        return { rx, ssh };
      };
      expect(await verdict(role)).toEqual({ rx: 'accepted', ssh: 'accepted' });
      expect(await verdict(user)).toEqual({ rx: 'refused', ssh: 'refused' });
    } finally {
      await srv.stop();
    }
  });
});

describe('certificates held by an ssh-agent', () => {
  let sock: string;
  let pid = '';
  beforeAll(() => {
    sock = join(dir, 'agent.sock');
    const out = execFileSync('ssh-agent', ['-a', sock, '-s'], { encoding: 'utf8' });
    pid = /SSH_AGENT_PID=(\d+)/.exec(out)?.[1] ?? '';
  });
  afterAll(() => {
    if (pid) execFileSync('kill', [pid]);
  });
  const agentLogin = (...providers: ReturnType<typeof agentCertificate>[]) =>
    connect({ host: '127.0.0.1', port: server.info.port, username: server.info.username }).pipe(
      verifyHostKey(pinned(...Object.values(server.info.hostFingerprints))),
      authenticate(...providers),
      run('echo via agent', { check: true }),
    );

  it('ssh-add of a key with its certificate: agentCertificate() logs in where only the certificate is authorized (agent() alone cannot), as ssh does', async () => {
    for (const type of ['ed25519', 'rsa']) {
      const file = key(`agent_${type}`, type, { principals: server.info.username, validity: '-5m:+1h', id: `agent-${type}` });
      execFileSync('ssh-add', ['-D'], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
      execFileSync('ssh-add', [file], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' }); // adds FILE-cert.pub too
      expect(await errorOf(agentLogin(agent(sock)))).toBeInstanceOf(AuthenticationError);
      expect((await lastValueFrom(agentLogin(agentCertificate(sock), agent(sock)))).stdout, type).toBe('via agent\n');
      const ssh = await new Promise<number>((resolve) =>
        execFile(
          'ssh',
          ['-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', `IdentityAgent=${sock}`, '-p', String(server.info.port), `${server.info.username}@127.0.0.1`, 'true'],
          (err) => resolve(err ? 1 : 0),
        ),
      );
      expect(ssh, type).toBe(0);
      expect(readFileSync(server.info.logFile, 'utf8')).toMatch(new RegExp(`Accepted publickey for ${server.info.username} .*ID agent-${type}`));
    }
  });

  it('an expired certificate in the agent is skipped with an event', async () => {
    const file = key('agent_expired', 'ed25519', { principals: server.info.username, validity: '-2d:-1d' });
    execFileSync('ssh-add', ['-D'], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
    execFileSync('ssh-add', [file], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
    const events: AuthEvent[] = [];
    const err = await errorOf(
      connect({ host: '127.0.0.1', port: server.info.port, username: server.info.username }).pipe(
        verifyHostKey(pinned(...Object.values(server.info.hostFingerprints))),
        tap((t) => t.auth$.subscribe({ next: (e) => events.push(e), error: () => undefined })),
        authenticate(agentCertificate(sock)),
      ),
    );
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(events.find((e) => e.type === 'skipped')).toMatchObject({ reason: 'expired', provider: 'agent (certificate)' });
  });
});

describe('host certificates (@cert-authority), beside OpenSSH', () => {
  const servers: Array<{ info: SshdInfo; stop: () => Promise<void> }> = [];
  afterAll(async () => {
    for (const srv of servers) await srv.stop();
  });
  let hostCa: string;
  let otherCa: string;
  beforeAll(() => {
    hostCa = join(dir, 'host_ca');
    otherCa = join(dir, 'other_ca');
    keygen('-t', 'ed25519', '-N', '', '-f', hostCa);
    keygen('-t', 'ed25519', '-N', '', '-f', otherCa);
  });
  const pubOf = (file: string) => readFileSync(`${file}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');

  /** An sshd whose ed25519 host key carries a certificate signed as `sign` says (or none). */
  async function certifiedSshd(name: string, sign?: { ca?: string; principals: string; validity: string }, more: string[] = [], type = 'ed25519'): Promise<{ info: SshdInfo; hostKey: string }> {
    const hostKey = join(dir, `hostkey_${name}`);
    keygen('-t', type, ...(type === 'ecdsa' ? ['-b', '384'] : []), '-N', '', '-f', hostKey);
    const extra = [`HostKey ${hostKey}`, ...more];
    if (sign) {
      keygen('-s', sign.ca ?? hostCa, '-h', '-I', `host-${name}`, '-n', sign.principals, '-V', sign.validity, `${hostKey}.pub`);
      extra.push(`HostCertificate ${hostKey}-cert.pub`);
    }
    const srv = await startSshd({ account: s, extra });
    servers.push(srv);
    return { info: srv.info, hostKey };
  }

  const knownHostsWith = (name: string, lines: string[]) => {
    const file = join(dir, `kh_${name}`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  };

  async function verdicts(info: SshdInfo, kh: string): Promise<{ rxssh: unknown; ssh: 'accepted' | 'refused' }> {
    let rxssh: unknown = 'accepted';
    try {
      await lastValueFrom(
        connect({ host: '127.0.0.1', port: info.port, username: info.username }).pipe(
          verifyHostKey(knownHosts({ files: [kh] })),
          authenticate(privateKey(readFileSync(info.keys['ed25519'] ?? ''))),
          run('true', { check: true }),
        ),
      );
    } catch (err) {
      rxssh = err;
    }
    const ssh = await new Promise<'accepted' | 'refused'>((resolve) =>
      execFile(
        'ssh',
        ['-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${kh}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'IdentityAgent=none', '-i', info.keys['ed25519'] ?? '', '-p', String(info.port), `${info.username}@127.0.0.1`, 'true'],
        (err) => resolve(err ? 'refused' : 'accepted'),
      ),
    );
    return { rxssh, ssh };
  }

  it('a valid host certificate is accepted through the CA alone (no host key in known_hosts), as by ssh', async () => {
    const { info } = await certifiedSshd('valid', { principals: '127.0.0.1,localhost', validity: '-5m:+1h' });
    const kh = knownHostsWith('valid', [`@cert-authority [127.0.0.1]:${info.port} ${pubOf(hostCa)}`]);
    const v = await verdicts(info, kh);
    expect(v).toEqual({ rxssh: 'accepted', ssh: 'accepted' });
  });

  it('an ECDSA host certificate, across re-keys (RekeyLimit 1M, 8 MB through it): the certificate is checked at every key exchange', async () => {
    const { info } = await certifiedSshd('ecdsa-rekey', { principals: '127.0.0.1', validity: '-5m:+1h' }, ['RekeyLimit 1M', 'HostKeyAlgorithms ecdsa-sha2-nistp384-cert-v01@openssh.com,ecdsa-sha2-nistp384'], 'ecdsa');
    const kh = knownHostsWith('ecdsa-rekey', [`@cert-authority [127.0.0.1]:${info.port} ${pubOf(hostCa)}`]);
    let offered = '';
    const r = await lastValueFrom(
      connect({ host: '127.0.0.1', port: info.port, username: info.username }).pipe(
        verifyHostKey(knownHosts({ files: [kh] })),
        tap((t) => (offered = t.hostKey.type)),
        authenticate(privateKey(readFileSync(info.keys['ed25519'] ?? ''))),
        run('head -c 8000000 /dev/zero | wc -c', { check: true }),
      ),
    );
    expect(offered).toBe('ecdsa-sha2-nistp384-cert-v01@openssh.com');
    expect(r.stdout.trim()).toBe('8000000');
  });

  it.each([
    ['expired', { principals: '127.0.0.1', validity: '-2d:-1d' }, 'expired'],
    ['not-yet-valid', { principals: '127.0.0.1', validity: '+1d:+2d' }, 'not-yet-valid'],
    ['wrong-principal', { principals: 'other.example', validity: '-5m:+1h' }, 'wrong-principal'],
  ] as const)('%s: HostCertificateError with that reason; ssh refuses too', async (name, sign, reason) => {
    const { info } = await certifiedSshd(name, sign);
    const kh = knownHostsWith(name, [`@cert-authority [127.0.0.1]:${info.port} ${pubOf(hostCa)}`]);
    const v = await verdicts(info, kh);
    expect(v.ssh).toBe('refused');
    expect(v.rxssh).toBeInstanceOf(HostCertificateError);
    expect(v.rxssh).toMatchObject({ reason, keyId: `host-${name}`, code: 'ERR_SSH_HOST_CERTIFICATE' });
  });

  it('CASignatureAlgorithms without the CA\'s algorithm: HostCertificateError signature-algorithm; ssh -o CASignatureAlgorithms refuses too', async () => {
    const { info } = await certifiedSshd('ca-sig-algs', { principals: '127.0.0.1', validity: '-5m:+1h' });
    const kh = knownHostsWith('ca-sig-algs', [`@cert-authority [127.0.0.1]:${info.port} ${pubOf(hostCa)}`]);
    const conf = join(dir, 'ssh_config_ca_sig');
    writeFileSync(conf, `Host casig\n  HostName 127.0.0.1\n  Port ${info.port}\n  User ${info.username}\n  IdentityFile ${info.keys['ed25519']}\n  IdentitiesOnly yes\n  UserKnownHostsFile ${kh}\n  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n  CASignatureAlgorithms -ssh-ed25519\n`);
    const err = await errorOf(connectAlias('casig', { file: conf, systemFile: null }).pipe(run('true')));
    expect(err).toBeInstanceOf(HostCertificateError);
    expect(err).toMatchObject({ reason: 'signature-algorithm' });
    const ssh = spawnSync('ssh', ['-F', conf, '-o', 'BatchMode=yes', 'casig', 'true'], { encoding: 'utf8' });
    expect(ssh.status).not.toBe(0);
    // Without the line the same certificate is accepted.
    writeFileSync(conf, readFileSync(conf, 'utf8').replace('  CASignatureAlgorithms -ssh-ed25519\n', ''));
    expect((await lastValueFrom(connectAlias('casig', { file: conf, systemFile: null }).pipe(run('echo ok')))).stdout).toBe('ok\n');
  });

  it('unknown CA, revoked CA, revoked host key: refused like ssh', async () => {
    const { info, hostKey } = await certifiedSshd('others', { principals: '127.0.0.1', validity: '-5m:+1h' });
    const cases: Array<[string, string[], string]> = [
      ['unknown-ca', [`@cert-authority [127.0.0.1]:${info.port} ${pubOf(otherCa)}`], 'unknown-ca'],
      ['revoked-ca', [`@cert-authority [127.0.0.1]:${info.port} ${pubOf(hostCa)}`, `@revoked * ${pubOf(hostCa)}`], 'revoked'],
      ['revoked-key', [`@cert-authority [127.0.0.1]:${info.port} ${pubOf(hostCa)}`, `@revoked * ${pubOf(hostKey)}`], 'revoked'],
    ];
    for (const [name, lines, reason] of cases) {
      const v = await verdicts(info, knownHostsWith(name, lines));
      expect(v.ssh, name).toBe('refused');
      expect(v.rxssh, name).toBeInstanceOf(HostCertificateError);
      expect((v.rxssh as HostCertificateError).reason, name).toBe(reason);
    }
  });

  it('ssh_config HostKeyAlias: the alias is the known_hosts name and the principal checked, as for ssh -o HostKeyAlias', async () => {
    const { info } = await certifiedSshd('alias', { principals: 'web1.example', validity: '-5m:+1h' });
    const kh = knownHostsWith('alias', [`@cert-authority web1.example ${pubOf(hostCa)}`]);
    const config = join(dir, 'alias_config');
    writeFileSync(config, ['Host web1', '  HostName 127.0.0.1', `  Port ${info.port}`, `  User ${info.username}`, `  IdentityFile ${info.keys['ed25519']}`, '  IdentitiesOnly yes', '  HostKeyAlias web1.example', `  UserKnownHostsFile ${kh}`, ''].join('\n'));
    expect((await lastValueFrom(connectAlias('web1', { file: config }).pipe(run('echo aliased')))).stdout).toBe('aliased\n');
    const ssh = await new Promise<number>((resolve) =>
      execFile('ssh', ['-F', config, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'IdentityAgent=none', 'web1', 'true'], (err) => resolve(err ? 1 : 0)),
    );
    expect(ssh).toBe(0);
    // Without the alias the name checked is 127.0.0.1, which the certificate does not name.
    const direct = await verdicts(info, knownHostsWith('alias-direct', [`@cert-authority [127.0.0.1]:${info.port} ${pubOf(hostCa)}`]));
    expect(direct.rxssh).toMatchObject({ reason: 'wrong-principal' });
    expect(direct.ssh).toBe('refused');
  });

  it('hostCertificateAuthority(caKey): certificates of that CA only; a plain host key is unknown', async () => {
    const { info } = await certifiedSshd('policy', { principals: '127.0.0.1', validity: '-5m:+1h' });
    const login = (port: number, policyCa: string) =>
      connect({ host: '127.0.0.1', port, username: info.username }).pipe(
        verifyHostKey(hostCertificateAuthority(readFileSync(`${policyCa}.pub`, 'utf8'))),
        authenticate(privateKey(readFileSync(info.keys['ed25519'] ?? ''))),
        run('echo by CA'),
      );
    expect((await lastValueFrom(login(info.port, hostCa))).stdout).toBe('by CA\n');
    expect(await errorOf(login(info.port, otherCa))).toMatchObject({ reason: 'unknown-ca' });
    const plain = await certifiedSshd('policy-plain');
    expect(await errorOf(login(plain.info.port, hostCa))).toBeInstanceOf(HostKeyUnknownError);
    // A tap in between changes nothing (issue 21 #17): the certificate is still asked for.
    const tapped = await lastValueFrom(
      connect({ host: '127.0.0.1', port: info.port, username: info.username }).pipe(
        tap(() => undefined),
        verifyHostKey(hostCertificateAuthority(readFileSync(`${hostCa}.pub`, 'utf8'))),
        authenticate(privateKey(readFileSync(info.keys['ed25519'] ?? ''))),
        run('echo by CA'),
      ),
    );
    expect(tapped.stdout).toBe('by CA\n');
  });

  it('rxssh run over hosts that take certificates only (user and host), with a host CA in known_hosts; a fan-out over certificate and plain hosts keeps one result each', async () => {
    const userKey = key('fleet_user', 'ed25519', { principals: s.username, validity: '-5m:+1h' });
    const certOnly = await certifiedSshd('fleet', { principals: '127.0.0.1', validity: '-5m:+1h' }, [`TrustedUserCAKeys ${join(dir, 'user_ca.pub')}`, 'PasswordAuthentication no']);
    const plainHost = hostKeyLine(s.dir);
    const kh = knownHostsWith('fleet', [`@cert-authority [127.0.0.1]:${certOnly.info.port} ${pubOf(hostCa)}`, `[127.0.0.1]:${s.port} ${plainHost}`]);
    const cli = (args: string[]) =>
      new Promise<{ code: number; stdout: string }>((resolve) =>
        execFile(process.execPath, ['--import', 'tsx', 'lib/cli/bin.ts', ...args], { env: { ...process.env, SSH_AUTH_SOCK: '' } }, (err, stdout) =>
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout }),
        ),
      );
    const out = await cli(['run', '-F', '/dev/null', '-O', `UserKnownHostsFile=${kh}`, '-O', 'StrictHostKeyChecking=yes', '-l', s.username, '--identity', userKey, '--identity', s.keys['ed25519'] ?? '', '-H', `127.0.0.1:${certOnly.info.port}`, '-H', `127.0.0.1:${s.port}`, '-i', 'echo fleet']);
    expect(out.code, out.stdout).toBe(0);
    expect(out.stdout.match(/\[SUCCESS\]/g)).toHaveLength(2);
    const results = await lastValueFrom(
      fanOut([`127.0.0.1:${certOnly.info.port}`, `127.0.0.1:${s.port}`, `127.0.0.1:${certOnly.info.port}`], (t) =>
        connect({ host: t.host, port: t.port ?? 22, username: s.username }).pipe(
          verifyHostKey(knownHosts({ files: [kh] })),
          authenticate(privateKey(readFileSync(userKey), { certificate: readFileSync(`${userKey}-cert.pub`, 'utf8') }), privateKey(readFileSync(s.keys['ed25519'] ?? ''))),
          run('echo one'),
        ),
      ).pipe(toArray()),
    );
    expect(results.map((r) => r.status)).toEqual(['ok', 'ok', 'ok']);
  });

  it('an expired or wrong-name host certificate falls back to the plain key known_hosts also lists, as ssh does (issue 21 #13)', async () => {
    for (const [name, sign] of [
      ['expired', { principals: '127.0.0.1', validity: '-2d:-1d' }],
      ['wrong-name', { principals: 'somewhere.else', validity: '-5m:+1h' }],
    ] as const) {
      const { info, hostKey } = await certifiedSshd(`fallback-${name}`, sign);
      const ca = `@cert-authority [127.0.0.1]:${info.port} ${pubOf(hostCa)}`;
      const plain = `[127.0.0.1]:${info.port} ${pubOf(hostKey)}`;
      expect(await verdicts(info, knownHostsWith(`fallback-${name}`, [ca, plain])), name).toEqual({ rxssh: 'accepted', ssh: 'accepted' });
      const onlyCa = await verdicts(info, knownHostsWith(`fallback-${name}-ca`, [ca]));
      expect(onlyCa.ssh, name).toBe('refused');
      expect(onlyCa.rxssh, name).toBeInstanceOf(HostCertificateError);
    }
  });

  it('a @cert-authority line without a port applies to a host on another port, as ssh does (issue 21 #14)', async () => {
    const { info } = await certifiedSshd('portless', { principals: '127.0.0.1', validity: '-5m:+1h' });
    const v = await verdicts(info, knownHostsWith('portless', [`@cert-authority 127.0.0.1 ${pubOf(hostCa)}`]));
    expect(v).toEqual({ rxssh: 'accepted', ssh: 'accepted' });
  });

  it('a host with a plain key where only a CA is known is unknown (fail closed), as with ssh -o StrictHostKeyChecking=yes', async () => {
    const { info } = await certifiedSshd('plain');
    const kh = knownHostsWith('plain', [`@cert-authority [127.0.0.1]:${info.port} ${pubOf(hostCa)}`]);
    const v = await verdicts(info, kh);
    expect(v.ssh).toBe('refused');
    expect(v.rxssh).toBeInstanceOf(HostKeyUnknownError);
  });
});
