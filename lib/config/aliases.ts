/** The host aliases an ssh_config declares, as an inventory. */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { SshConfigError } from '../errors.js';
import { join } from 'node:path';
import { hostLineNames } from './reader.js';
import { hostMatches } from '../transport/known-hosts.js';
import { RESOLVE_ALIAS_NAMES, type ResolveAliasConfig } from './ssh-config.js';
import { checkOptions, optionNames } from '../util/check.js';

/**
 * Options of {@link sshConfigAliases} and `sshConfigTargets` (rxssh/fleet).
 *
 * @example
 * ```ts
 * import { sshConfigTargets } from 'rxssh/fleet';
 *
 * sshConfigTargets({ file: '/etc/rxssh/fleet.conf', match: 'web*,!web-old' });
 * ```
 */
export interface SshConfigTargetsConfig extends ResolveAliasConfig {
  /**
   * Keep only aliases matching these OpenSSH patterns (`*`, `?`, a leading `!` negates; any
   * positive match and no negative one). Default: every alias.
   */
  readonly match?: string | readonly string[];
}

/** The names {@link SshConfigTargetsConfig} takes. @internal */
export const SSH_CONFIG_TARGETS_NAMES = optionNames<SshConfigTargetsConfig>()([...RESOLVE_ALIAS_NAMES, 'match']);

/**
 * The host aliases an ssh_config declares, as an inventory: every name on a `Host` line that
 * has no wildcard and no negation (Includes followed), in file order, without duplicates,
 * filtered by `match`. The names to give {@link connectAlias} or {@link fromSshConfig}.
 *
 * @example
 * ```ts
 * import { sshConfigAliases } from 'rxssh';
 *
 * sshConfigAliases({ match: ['web*', '!web-old'] }); // ['web1', 'web2']
 * ```
 */
export function sshConfigAliases(options: SshConfigTargetsConfig = {}): string[] {
  checkOptions('sshConfigAliases()', options, SSH_CONFIG_TARGETS_NAMES);
  const home = options.home ?? homedir();
  if (typeof options.file === 'string' && !existsSync(options.file)) {
    throw new SshConfigError(`Can't open user config file ${options.file}: No such file or directory`, 'config', 'command line', { host: '', port: 22, phase: 'config' });
  }
  const names = options.file === null ? [] : hostLineNames(options.file ?? join(home, '.ssh', 'config'), home);
  const patterns = options.match === undefined ? ['*'] : typeof options.match === 'string' ? options.match.split(/[\s,]+/).filter(Boolean) : [...options.match];
  const seen = new Set<string>();
  for (const name of names) {
    if (name === '' || /[*?!]/.test(name)) continue;
    if (hostMatches(patterns.join(','), name)) seen.add(name);
  }
  return [...seen];
}
