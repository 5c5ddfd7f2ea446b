/**
 * `ProxyCommand`'s `%` tokens, as ssh expands them: `%h` (the HostName), `%p`, `%r`, `%n` (the
 * name as given), `%%`, and `%C %L %l %u %d`. Any other token is refused: ssh would stop with
 * "unknown key", and a command run with a token left in it would go somewhere else.
 */
import { createHash } from 'node:crypto';
import { hostname as localHostname } from 'node:os';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** What the tokens stand for. */
export interface ProxyTokens {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly alias: string;
  readonly localUser: string;
  readonly home: string;
  /** `HostKeyAlias`, for `%k` (the alias given otherwise). */
  readonly hostKeyAlias?: string | undefined;
}

/**
 * What one `%` token stands for (`h`, `p`, `r`, `n`, `u`, `d`, `L`, `l`, `C`, `i`, `k`, `%`), or
 * undefined for a token ssh does not define. The one table for commands and paths alike.
 */
export function tokenValue(token: string, t: ProxyTokens): string | undefined {
  switch (token) {
    case '%':
      return '%';
    case 'h':
      return t.host;
    case 'p':
      return String(t.port);
    case 'r':
      return t.user;
    case 'n':
      return t.alias;
    case 'u':
      return t.localUser;
    case 'd':
      return t.home;
    case 'L':
      return localHostname().split('.')[0] ?? '';
    case 'l':
      return localHostname();
    case 'C':
      return createHash('sha1').update(`${localHostname()}${t.host}${t.port}${t.user}`).digest('hex');
    case 'i':
      return String(process.getuid?.() ?? '');
    case 'k':
      return t.hostKeyAlias ?? t.alias;
    default:
      return undefined;
  }
}

/** The command with its tokens expanded, or an Error naming the token ssh does not know. */
export function expandProxyCommand(command: string, t: ProxyTokens, keyword = 'ProxyCommand'): string | Error {
  let unknown: string | undefined;
  const out = command.replace(/%(.?)/g, (m, token: string) => {
    const value = tokenValue(token, t);
    if (value === undefined) unknown ??= m;
    return value ?? m;
  });
  return unknown === undefined ? out : new Error(`unknown token ${unknown === '%' ? '% at the end' : unknown} in ${keyword}`);
}

/**
 * A path as ssh's percent_dollar_expand makes it, in one pass: `${VAR}` from the environment
 * (its value taken as it is) and `%` tokens; an unset variable, a `${` without `}` or a token
 * ssh does not know is an Error, as ssh stops there too ("env var ${X} has no value").
 */
export function expandPathWords(path: string, t: ProxyTokens, env: NodeJS.ProcessEnv = process.env): string | Error {
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const c = path[i] as string;
    if (c === '$' && path[i + 1] === '{') {
      const end = path.indexOf('}', i + 2);
      if (end < 0) return new Error(`environment variable '${path.slice(i + 2)}' missing closing '}'`);
      const name = path.slice(i + 2, end);
      if (name === '') return new Error('zero-length environment variable');
      const value = env[name];
      if (value === undefined) return new Error(`env var \${${name}} has no value`);
      out += value;
      i = end;
    } else if (c === '%') {
      const token = path[++i] ?? '';
      const value = tokenValue(token, t);
      if (value === undefined) return new Error(token === '' ? 'invalid format (a % at the end)' : `unknown key %${token}`);
      out += value;
    } else out += c;
  }
  return out;
}

/**
 * A leading `~` or `~user` as ssh's tilde_expand_filename reads it: `~` and `~/…` are `home`,
 * `~user/…` that user's home directory (the password database: /etc/passwd, then getent); an
 * unknown user is an Error, as ssh stops ("No such user").
 */
export function expandTilde(path: string, home: string): string | Error {
  const m = /^~([^/]*)(?=\/|$)/.exec(path);
  if (!m) return path;
  const user = m[1] as string;
  if (user === '') return home + path.slice(1);
  const dir = homeOf(user);
  return dir === undefined ? new Error(`tilde_expand: No such user ${user}`) : dir + path.slice(m[0].length);
}

function homeOf(user: string): string | undefined {
  const line = (text: string): string | undefined => text.split('\n').find((l) => l.split(':')[0] === user)?.split(':')[5];
  try {
    const found = line(readFileSync('/etc/passwd', 'utf8'));
    if (found !== undefined) return found;
  } catch {
    // no /etc/passwd: ask getent below
  }
  try {
    return line(execFileSync('getent', ['passwd', user], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }));
  } catch {
    return undefined;
  }
}
