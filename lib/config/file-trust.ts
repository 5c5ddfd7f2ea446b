/**
 * Whether a config file may be trusted, as ssh decides for the files it reads with
 * `SSHCONF_CHECKPERM` (the user's own `~/.ssh/config` and every `Include`d file): a file another
 * user could write could make ssh run any command (`ProxyCommand`, `Match exec`,
 * `KnownHostsCommand`), so ssh refuses it — "Bad owner or permissions". Owned by root or by the
 * user running, written by no one else; group-writable only where the group holds the owner
 * alone (Debian's `secure_permissions`, the ssh this project is tested beside; upstream OpenSSH
 * refuses every group-writable file).
 */
import { readFileSync, type Stats } from 'node:fs';

/** The users (name, uid, primary gid) in /etc/passwd and each group's supplementary members in /etc/group. */
interface Accounts {
  readonly users: ReadonlyArray<{ readonly name: string; readonly uid: number; readonly gid: number }>;
  readonly members: ReadonlyMap<number, readonly string[]>;
}

function fields(file: string): string[][] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => line.split(':'));
  } catch {
    return [];
  }
}

function accounts(): Accounts {
  const users = fields('/etc/passwd').map(([name = '', , uid = '', gid = '']) => ({ name, uid: Number(uid), gid: Number(gid) }));
  const members = new Map(fields('/etc/group').map(([, , gid = '', list = '']) => [Number(gid), list.split(',').filter(Boolean)] as const));
  return { users, members };
}

/** Whether a group-writable file's group has its owner as the one member (by primary group or by the member list, not both others). */
function groupOfOwnerAlone(st: Stats, uid: number, known: Accounts): boolean {
  let count = 0;
  for (const user of known.users) {
    if (user.gid !== st.gid) continue;
    count++;
    if (user.uid !== uid) return false;
  }
  const owner = known.users.find((user) => user.uid === st.uid);
  if (!owner) return false;
  const listed = known.members.get(st.gid) ?? [];
  if (listed.length > 0) {
    count++;
    if (listed[0] !== owner.name || listed.length > 1) return false;
  }
  return count > 0;
}

/**
 * Why ssh would refuse to read this config file (`Bad owner or permissions on FILE`), or
 * undefined when it is trusted. Without POSIX user ids (Windows) every file is trusted.
 */
export function untrustedConfigFile(file: string, st: Stats): string | undefined {
  const uid = process.getuid?.();
  if (uid === undefined) return undefined;
  const owner = st.uid === 0 || st.uid === uid;
  const writable = (st.mode & 0o002) !== 0 || ((st.mode & 0o020) !== 0 && !groupOfOwnerAlone(st, uid, accounts()));
  return owner && !writable ? undefined : `Bad owner or permissions on ${file} (another user could write it; ssh refuses it too)`;
}
