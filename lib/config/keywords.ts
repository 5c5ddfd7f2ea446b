/**
 * Every ssh_config keyword OpenSSH's client knows, and what rxssh does with it: one table for
 * the config files and for `-O`/`-o` options alike.
 *
 * - `honoured`: rxssh does what the keyword says.
 * - `harmless`: accepted and ignored; it does not change where rxssh connects, what it trusts
 *   or what it sends (logging, display, performance, an auth method rxssh never offers).
 * - `refused`: it would change one of those and rxssh cannot do it, so a host that the keyword
 *   applies to is refused with an error naming the keyword and where it was set; never dropped.
 *   `unless` lists the values that ask for nothing (`ProxyCommand none`, `RequestTTY no`).
 */

/** What rxssh does with one keyword. */
export type KeywordRule =
  | { readonly kind: 'honoured' }
  | { readonly kind: 'harmless' }
  | { readonly kind: 'refused'; readonly why: string; readonly unless?: RegExp };

const honoured: KeywordRule = { kind: 'honoured' };
const harmless: KeywordRule = { kind: 'harmless' };
const refused = (why: string, unless?: RegExp): KeywordRule => ({ kind: 'refused', why, ...(unless ? { unless } : {}) });

const NO = /^(no|false)$/i;
const NONE = /^none$/i;
const YES = /^(yes|true)$/i;

/** Lower-case keyword → rule. Keywords OpenSSH only warns about (deprecated, unsupported) are harmless. */
export const KEYWORDS: ReadonlyMap<string, KeywordRule> = new Map<string, KeywordRule>([
  // Blocks and files.
  ['host', honoured],
  ['match', honoured],
  ['include', honoured],
  ['ignoreunknown', honoured],
  // Where rxssh connects, as whom.
  ['hostname', honoured],
  ['user', honoured],
  ['port', honoured],
  ['proxyjump', honoured],
  ['connecttimeout', honoured],
  ['serveraliveinterval', honoured],
  ['serveralivecountmax', honoured],
  ['tag', honoured],
  ['proxycommand', honoured],
  ['bindaddress', honoured],
  ['bindinterface', refused('rxssh does not bind its connections to an interface (BindAddress it does)', NONE)],
  ['addressfamily', honoured],
  ['canonicalizehostname', honoured], // yes/always, as ssh.c's resolve_canonicalize (config/canonicalize.ts)
  ['canonicaldomains', honoured],
  ['canonicalizefallbacklocal', honoured],
  ['canonicalizemaxdots', honoured],
  ['canonicalizepermittedcnames', refused("rxssh cannot follow a CNAME to a new name: Node's lookup does not give the resolver's canonical name", NONE)],
  ['connectionattempts', honoured],
  ['controlmaster', harmless], // connection sharing: rxssh opens its own connection, same outcome
  ['controlpath', harmless],
  ['controlpersist', harmless],
  ['proxyusefdpass', refused('rxssh takes the ProxyCommand\'s stdin and stdout as the connection; it cannot receive a socket from it', NO)],
  // What it trusts.
  ['stricthostkeychecking', honoured],
  ['userknownhostsfile', honoured],
  ['globalknownhostsfile', honoured],
  ['hostkeyalias', honoured],
  ['checkhostip', honoured], // the server's address is checked in known_hosts too, and recorded (transport/check-host-ip.ts)
  ['hashknownhosts', honoured], // learned lines (accept-new, UpdateHostKeys) name the host hashed
  ['updatehostkeys', honoured], // yes: learn proven keys into the first UserKnownHostsFile; ask (rxssh never prompts) and no: nothing
  ['knownhostscommand', refused('rxssh does not run a KnownHostsCommand: its keys would not be trusted', NONE)],
  ['revokedhostkeys', honoured],
  ['verifyhostkeydns', refused('rxssh does not look up SSHFP records', NO)],
  ['nohostauthenticationforlocalhost', refused('rxssh checks the host key of localhost too', NO)],
  ['hostkeyalgorithms', honoured], // +/-/^ as ssh; a name rxssh cannot do, or below the floor, is refused (config/algorithms.ts)
  ['casignaturealgorithms', honoured], // +/-/^ as ssh; host certificates' CA signatures
  ['requiredrsasize', honoured], // host keys and identities; never below 1024
  ['kexalgorithms', honoured], // +/-/^ as ssh; a name rxssh cannot do, or below the floor, is refused (config/algorithms.ts)
  ['ciphers', honoured], // +/-/^ as ssh; a name rxssh cannot do, or below the floor, is refused (config/algorithms.ts)
  ['macs', honoured], // +/-/^ as ssh; a name rxssh cannot do, or below the floor, is refused (config/algorithms.ts)
  ['fingerprinthash', harmless],
  ['visualhostkey', harmless],
  // What it sends: credentials.
  ['identityfile', honoured],
  ['identitiesonly', honoured],
  ['certificatefile', honoured],
  ['identityagent', honoured],
  ['batchmode', honoured], // no prompt on the terminal: passwords, passphrases, unknown host keys
  ['forwardagent', honoured],
  ['pubkeyauthentication', refused('rxssh always offers its keys', YES)],
  ['passwordauthentication', refused('rxssh offers a password whenever one was given', YES)],
  ['kbdinteractiveauthentication', refused('rxssh answers keyboard-interactive prompts whenever a password was given', YES)],
  ['challengeresponseauthentication', refused('rxssh answers keyboard-interactive prompts whenever a password was given', YES)],
  ['preferredauthentications', refused('rxssh tries its methods in its own order')],
  ['pubkeyacceptedalgorithms', honoured], // +/-/^ as ssh; which keys are offered and an RSA key's signature (auth/signature-algorithms.ts)
  ['pubkeyacceptedkeytypes', honoured], // the old name: read as pubkeyacceptedalgorithms
  ['hostbasedauthentication', refused('rxssh does not do host-based authentication', NO)],
  ['hostbasedacceptedalgorithms', harmless],
  ['hostbasedkeytypes', harmless],
  ['enablesshkeysign', harmless],
  ['gssapiauthentication', harmless], // an auth method rxssh never offers: as ssh without Kerberos
  ['gssapidelegatecredentials', harmless],
  ['gssapikeyexchange', harmless],
  ['gssapitrustdns', harmless],
  ['gssapirenewalforcesrekey', harmless],
  ['gssapikexalgorithms', harmless],
  ['gssapiclientidentity', harmless],
  ['gssapiserveridentity', harmless],
  ['pkcs11provider', refused('rxssh cannot use PKCS#11 tokens: their keys would not be offered', NONE)],
  ['securitykeyprovider', harmless],
  ['addkeystoagent', refused('rxssh does not ask before it adds a key to the agent (use yes or confirm)', /^(?!ask(\s|$))/i)], // yes, confirm, TIME: honoured (auth/agent-add.ts)
  ['usekeychain', harmless],
  ['numberofpasswordprompts', honoured], // rxssh exec's password and keyboard-interactive prompts
  ['kbdinteractivedevices', harmless],
  // What it sends: the session.
  ['sendenv', honoured],
  ['setenv', honoured],
  ['remotecommand', honoured], // rxssh exec without a command runs it; with one it is an error, as in ssh
  ['requesttty', honoured], // the CLI's exec and run; the library's pty option is the caller's
  ['sessiontype', refused('rxssh opens the session its caller asks for', /^default$/i)],
  ['stdinnull', honoured], // the CLI's exec and run -I send no stdin (ssh -n); the library's stdin is the caller's
  ['forkafterauthentication', refused('rxssh does not go to the background after authentication (start it with &)', NO)],
  ['localcommand', harmless], // runs only with PermitLocalCommand yes, refused below
  ['permitlocalcommand', refused('rxssh does not run a LocalCommand', NO)],
  // Set up by `rxssh exec` (fromSshConfig's `forwards`); refused where nothing would set them up.
  ['localforward', refused('rxssh does not set up forwards from ssh_config for a connection alone (rxssh exec does; in a program: forwardLocal, or fromSshConfig with forwards)')],
  ['remoteforward', refused('rxssh does not set up forwards from ssh_config for a connection alone (rxssh exec does; in a program: forwardRemote, or fromSshConfig with forwards)')],
  ['dynamicforward', refused('rxssh does not set up forwards from ssh_config for a connection alone (rxssh exec does; in a program: forwardDynamic, or fromSshConfig with forwards)')],
  ['forwardx11', refused('rxssh does not forward X11', NO)],
  ['forwardx11trusted', harmless],
  ['forwardx11timeout', harmless],
  ['xauthlocation', harmless],
  ['tunnel', refused('rxssh does not forward tun devices', NO)],
  ['tunneldevice', harmless],
  ['clearallforwardings', honoured], // rxssh exec drops its -L, -R and -D, as ssh does
  ['exitonforwardfailure', harmless], // rxssh exec always ends when a forward fails (as yes); no would only keep going
  ['gatewayports', honoured], // exec's -L and -D without an address listen on every interface
  ['permitremoteopen', harmless],
  ['streamlocalbindmask', honoured], // the umask of exec's -L and -D Unix socket listeners (BindAddress.mask)
  ['streamlocalbindunlink', honoured], // exec's -L and -D replace a stale socket file (BindAddress.unlink)
  ['compression', honoured], // zlib@openssh.com, zlib
  ['compressionlevel', harmless],
  // Logging, terminal, performance.
  ['loglevel', honoured], // below INFO, rxssh exec prints none of its own notices (as -q)
  ['logverbose', harmless],
  ['syslogfacility', harmless],
  ['escapechar', honoured], // rxssh exec on a pseudo-terminal: ~. ~^Z ~? ~~ (cli/escapes.ts)
  ['enableescapecommandline', refused('rxssh has no ~C command line', NO)],
  ['obscurekeystroketiming', harmless],
  ['ipqos', harmless],
  ['tcpkeepalive', honoured], // SO_KEEPALIVE on the TCP socket (default yes, as ssh)
  ['rekeylimit', honoured], // the client renews the keys after so many bytes or seconds (transport/rekey-limit.ts)
  ['channeltimeout', refused('rxssh does not close idle channels: a session or forward would stay open past the ChannelTimeout', NONE)],
  // Deprecated or removed keywords OpenSSH still accepts with a warning.
  ...['protocol', 'cipher', 'rsaauthentication', 'rhostsrsaauthentication', 'useprivilegedport', 'useroaming', 'fallbacktorsh', 'usersh', 'compressionlevel', 'idletimeout', 'dsaauthentication', 'afstokenpassing', 'kerberosauthentication', 'kerberostgtpassing', 'smartcarddevice'].map(
    (k) => [k, harmless] as const,
  ),
]);

/** The rule of `keyword` (any case), or undefined for a keyword OpenSSH does not know either. */
export function keywordRule(keyword: string): KeywordRule | undefined {
  return KEYWORDS.get(keyword.toLowerCase());
}

/**
 * Why rxssh refuses an ssh_config keyword with this value (an option it cannot honour, such as
 * `LocalForward` or `ProxyCommand ssh -W %h:%p bastion`), or undefined when rxssh honours it or
 * may ignore it (`LogLevel`). The same table decides for config files, `connectAlias`'s `extra`
 * lines and the CLI's `-o`; docs/ssh-config.md lists it.
 *
 * @example
 * ```ts
 * import { sshConfigRefusal } from 'rxssh';
 *
 * sshConfigRefusal('ServerAliveInterval', '15'); // undefined: honoured
 * sshConfigRefusal('LocalForward', '8080 db:80'); // 'rxssh does not open forwards from ssh_config …'
 * ```
 */
export function sshConfigRefusal(keyword: string, value: string): string | undefined {
  const rule = keywordRule(keyword);
  if (!rule) return 'not an ssh_config keyword';
  if (rule.kind !== 'refused') return undefined;
  return rule.unless?.test(value.trim()) ? undefined : rule.why;
}
