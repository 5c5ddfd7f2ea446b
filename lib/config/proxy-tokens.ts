/**
 * `ProxyCommand`'s `%` tokens, as ssh expands them: `%h` (the HostName), `%p`, `%r`, `%n` (the
 * name as given), `%%`, and `%C %L %l %u %d`. Any other token is refused: ssh would stop with
 * "unknown key", and a command run with a token left in it would go somewhere else.
 */
import { createHash } from 'node:crypto';
import { hostname as localHostname } from 'node:os';

/** What the tokens stand for. */
export interface ProxyTokens {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly alias: string;
  readonly localUser: string;
  readonly home: string;
}

/** The command with its tokens expanded, or an Error naming the token ssh does not know. */
export function expandProxyCommand(command: string, t: ProxyTokens, keyword = 'ProxyCommand'): string | Error {
  const local = localHostname();
  const short = local.split('.')[0] ?? local;
  let unknown: string | undefined;
  const out = command.replace(/%(.?)/g, (m, token: string) => {
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
        return short;
      case 'l':
        return local;
      case 'C':
        return createHash('sha1').update(`${local}${t.host}${t.port}${t.user}`).digest('hex');
      default:
        unknown ??= m;
        return m;
    }
  });
  return unknown === undefined ? out : new Error(`unknown token ${unknown === '%' ? '% at the end' : unknown} in ${keyword}`);
}
