/**
 * `rxssh demo [--hosts N] [--json] [-- COMMAND]`: an embedded fleet of N in-process SSH servers
 * (from rxssh/testing, on loopback, running real local commands) and `rxssh run` across it —
 * with host keys verified through a known_hosts file and public-key authentication.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { combineLatest, from, lastValueFrom } from 'rxjs';
import { holdWhile } from '../util/hold.js';
import { knownHostsName } from '../index.js';
import { generateEd25519, testServer } from '../testing/index.js';
import type { Io } from './io.js';
import { runCommand } from './run.js';
import { UsageError } from './usage.js';

const DEFAULT_COMMAND = 'echo "$RXSSH_DEMO_HOST: load $(cut -d" " -f1-3 /proc/loadavg)"';

export const DEMO_HELP = `usage: rxssh demo [--hosts N] [-p PAR] [--json] [--no-progress] [COMMAND...]

Starts N in-process SSH servers on 127.0.0.1 (default 50; real local commands, random keys),
writes their host keys to a throwaway known_hosts file and runs \`rxssh run\` across them.
`;

// eslint-disable-next-line max-lines-per-function -- Long by design: the demo's steps in order (servers, known_hosts, the run, the teardown).
export async function demoCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { hosts: { type: 'string', default: '50' }, json: { type: 'boolean', default: false }, par: { type: 'string', short: 'p', default: '32' }, 'no-progress': { type: 'boolean' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    io.stdout.write(DEMO_HELP);
    return 0;
  }
  const count = Number(values.hosts);
  if (!Number.isInteger(count) || count < 1 || count > 2000) throw new UsageError('--hosts takes 1–2000');
  const command = positionals.length ? positionals.join(' ') : DEFAULT_COMMAND;
  const dir = mkdtempSync(join(tmpdir(), 'rxssh-demo-'));
  const clientKey = generateEd25519();
  const keyFile = join(dir, 'id_ed25519');
  writeFileSync(keyFile, clientKey.private, { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  const knownHostsFile = join(dir, 'known_hosts');
  if (!values.json) io.stderr.write(`rxssh demo: starting ${count} SSH servers on 127.0.0.1…\n`);
  const servers = Array.from({ length: count }, () => testServer({ commands: 'local', clientKey, username: 'demo' }));
  try {
    return await lastValueFrom(
      combineLatest(servers).pipe(
        holdWhile((infos) => {
          writeFileSync(knownHostsFile, infos.map((s) => `${knownHostsName(s.host, s.port)} ${s.hostKey.openssh}\n`).join(''));
          if (!values.json) io.stderr.write(`rxssh demo: rxssh run -p ${values.par} -H <${count} hosts> -- ${command}\n`);
          return from(
            runCommand(
              {
                targets: infos.map((s) => ({ host: s.host, port: s.port, username: s.username, label: `demo@127.0.0.1:${s.port}` })),
                command,
                par: Number(values.par),
                timeoutSec: 60,
                inline: false,
                print: false,
                outdir: undefined,
                errdir: undefined,
                sendInput: false,
                json: values.json === true,
                noProgress: values['no-progress'] === true || Boolean(io.env['RXSSH_NO_PROGRESS']),
                // The demo's own key and known_hosts only: no ~/.ssh/config, no agent.
                configFile: null,
                systemConfigFile: null,
                configLines: ['IdentitiesOnly yes', `UserKnownHostsFile ${knownHostsFile}`, 'StrictHostKeyChecking yes'],
                localUser: 'demo',
                home: dir,
                secrets: { identities: [keyFile], passwordEnv: undefined, passphraseEnv: undefined, askPassword: false, certificates: [] },
                verbose: false,
                summary: !values.json,
                showOutput: true,
              },
              io,
              (t) => ({ RXSSH_DEMO_HOST: t.label ?? t.host }),
            ),
          );
        }),
      ),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
