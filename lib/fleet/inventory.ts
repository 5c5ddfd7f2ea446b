/**
 * Inventories: where a fleet's list of hosts comes from (a pssh-style hosts file, the aliases of
 * an ssh_config).
 *
 * @module
 */
import { fromSshConfig, RESOLVE_ALIAS_NAMES } from '../config/ssh-config.js';
import { checkOptions, pickOptions } from '../util/check.js';
import { sshConfigAliases, SSH_CONFIG_TARGETS_NAMES, type SshConfigTargetsConfig } from '../config/aliases.js';
import { parseHostSpec, type LabelledTarget } from '../config/target.js';
import { expandHostRange } from '../config/host-range.js';

/**
 * Parses a pssh-style hosts file: one `[user@]host[:port]` per line (an optional second word
 * is the user, as in pssh), `#` comments and blank lines ignored; a host range
 * (`web[01-20].example`, see `expandHostRange`) stands for every name in it.
 *
 * @example
 * ```ts
 * import { parseHostsFile } from 'rxssh/fleet';
 *
 * parseHostsFile('# web\ndeploy@web1:2222\nweb2 admin\n'); // [{ host: 'web1', … }, { host: 'web2', username: 'admin', … }]
 * ```
 */
export function parseHostsFile(text: string): LabelledTarget[] {
  const targets: LabelledTarget[] = [];
  for (const raw of text.split(/\r?\n|\r/)) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) continue;
    const [spec = '', user] = line.split(/\s+/);
    for (const one of expandHostRange(spec)) {
      const target = parseHostSpec(one);
      targets.push(user && !target.username ? { ...target, username: user } : target);
    }
  }
  return targets;
}

/**
 * An ssh_config as a {@link fanOut} inventory: one target per alias (see
 * `sshConfigAliases`), labelled with the alias and carrying the resolved host, port and
 * user. Connect each with `connectAlias(target.alias)`, which also follows `ProxyJump` and uses
 * the alias's keys and host-key settings.
 *
 * @example
 * ```ts
 * import { connectAlias, run } from 'rxssh';
import { fanOut, sshConfigTargets } from 'rxssh/fleet';
 *
 * fanOut(sshConfigTargets({ match: 'web*' }), (t) => connectAlias(t.alias ?? t.host).pipe(run('uptime')))
 *   .subscribe((r) => console.log(r.host, r.status));
 * ```
 */
export function sshConfigTargets(options: SshConfigTargetsConfig = {}): LabelledTarget[] {
  checkOptions('sshConfigTargets()', options, SSH_CONFIG_TARGETS_NAMES);
  return sshConfigAliases(options).map((alias) => {
    const h = fromSshConfig(alias, pickOptions(options, RESOLVE_ALIAS_NAMES));
    return { host: h.host, ...(h.port !== undefined ? { port: h.port } : {}), username: h.username, label: alias, alias };
  });
}
