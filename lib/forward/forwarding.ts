/**
 * Port forwarding: local (`ssh -L`), remote (`ssh -R`), dynamic SOCKS5 (`ssh -D`) and OpenSSH's
 * Unix-socket forwarding both ways. Each forward is an Observable whose subscription is the
 * forward's lifetime: a listener (local or on the server) held while subscribed and torn down,
 * with every connection it carried, on unsubscribe. Reached through {@link Connection}'s
 * `forwardLocal`, `forwardRemote`, `forwardRemoteUnix` and `forwardDynamic`.
 *
 * @module
 */
export type { BindAddress, LocalForwardConfig, RemoteForwardConfig, DynamicForwardConfig, ForwardListening, LocalForwardConnection, DynamicForwardConnection, RemoteForwardConnection, ForwardEvent, DynamicForwardEvent, RemoteForwardEvent } from './types.js';
