/** The test server's user authentication: one user, its password and keys (and keyboard-interactive when asked). */
import { timingSafeEqual } from 'node:crypto';
import type { AuthContext, ParsedKey } from '../ssh2/index.js';

function sameSecret(a: string | Buffer, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Who may log in, and where attempts are counted. */
export interface Authentication {
  readonly username: string;
  readonly secret: string;
  readonly allowedKeys: readonly ParsedKey[];
  readonly keyboardInteractive: boolean;
  /** `TestServerStats`: every method asked, in order. */
  readonly stats: { readonly authRequests: string[] };
}

/** The server's 'authentication' handler. */
export function authenticator(a: Authentication): (ctx: AuthContext) => void {
  return (ctx) => {
      a.stats.authRequests.push(ctx.method);
      const methods: Array<'password' | 'publickey' | 'keyboard-interactive'> = ['publickey', 'password'];
      if (a.keyboardInteractive) methods.push('keyboard-interactive');
      if (ctx.username !== a.username) return ctx.reject(methods);
      switch (ctx.method) {
        case 'password':
          return sameSecret(ctx.password, a.secret) ? ctx.accept() : ctx.reject(methods);
        case 'publickey': {
          const key = a.allowedKeys.find((k) => ctx.key.data.equals(k.getPublicSSH()));
          if (!key) return ctx.reject(methods);
          if (!ctx.signature || !ctx.blob) return ctx.accept(); // a key query
          return key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true ? ctx.accept() : ctx.reject(methods);
        }
        case 'keyboard-interactive':
          if (!a.keyboardInteractive) return ctx.reject(methods);
          return ctx.prompt([{ prompt: 'Password: ', echo: false }], 'rxssh test', 'Type the password', (answers) =>
            answers[0] !== undefined && sameSecret(answers[0], a.secret) ? ctx.accept() : ctx.reject(methods),
          );
        default:
          return ctx.reject(methods);
      }
  };
}
