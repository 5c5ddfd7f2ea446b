/**
 * A TCP fault proxy of our own (toxiproxy is not available here), on loopback: forwards to a
 * target and injects faults — refuse, accept and stay silent, drip bytes, cut after N bytes
 * (FIN or RST), blackhole after N bytes, flip one byte at an offset.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface FaultPlan {
  /** Accept, then never forward anything (and never close). */
  readonly silent?: boolean;
  /** Flip (XOR 0xff) the byte at this offset of the server→client stream. */
  readonly flipDownAt?: number;
  /** Close the client connection after this many server→client bytes. */
  readonly cutDownAfter?: { readonly bytes: number; readonly how: 'fin' | 'rst' };
  /** Stop forwarding both ways (without closing) after this many server→client bytes. */
  readonly blackholeDownAfter?: number;
  /** Forward server→client one byte per `dripMs`. */
  readonly dripMs?: number;
}

export interface FaultProxy {
  readonly port: number;
  close(): void;
}

export async function faultProxy(target: { host: string; port: number }, plan: FaultPlan): Promise<FaultProxy> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('error', () => undefined);
    client.on('close', () => sockets.delete(client));
    if (plan.silent) return;
    const upstream = connect(target);
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.end();
    });
    client.on('close', () => upstream.destroy());
    let down = 0;
    let holed = false;
    client.on('data', (d: Buffer) => {
      if (!holed) upstream.write(d);
    });
    const drip: Buffer[] = [];
    upstream.on('data', (chunk: Buffer) => {
      if (holed) return;
      let data = Buffer.from(chunk);
      const start = down;
      down += data.length;
      if (plan.flipDownAt !== undefined && plan.flipDownAt >= start && plan.flipDownAt < down) {
        const i = plan.flipDownAt - start;
        data[i] = (data[i] ?? 0) ^ 0xff;
      }
      if (plan.blackholeDownAfter !== undefined && down > plan.blackholeDownAfter) {
        data = data.subarray(0, Math.max(0, plan.blackholeDownAfter - start));
        holed = true;
      }
      if (plan.cutDownAfter && down > plan.cutDownAfter.bytes) {
        client.write(data.subarray(0, Math.max(0, plan.cutDownAfter.bytes - start)));
        if (plan.cutDownAfter.how === 'rst') client.resetAndDestroy();
        else client.end();
        upstream.destroy();
        return;
      }
      if (plan.dripMs) {
        for (const b of data) drip.push(Buffer.from([b]));
        if (drip.length === data.length) {
          const t = setInterval(() => {
            const next = drip.shift();
            if (!next || client.destroyed) {
              clearInterval(t);
              timers.delete(t);
              return;
            }
            client.write(next);
          }, plan.dripMs);
          timers.add(t);
        }
        return;
      }
      if (data.length) client.write(data);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    close: () => {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** A raw TCP server that runs `onSocket` for every connection (for hostile banners etc.). */
export async function rawServer(onSocket: (socket: Socket) => void): Promise<{ port: number; close: () => void }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    onSocket(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
