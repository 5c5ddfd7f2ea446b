/**
 * A tiny authoritative DNS server for specs that need names to resolve the way getaddrinfo
 * resolves them (CanonicalizeHostname asks for `NAME.DOMAIN.`, which /etc/hosts never answers).
 * It answers A and AAAA from a zone (name → addresses), NXDOMAIN for any other name, and writes
 * every question to a log. Run it in a network namespace of the spec's own (see resolver-ns.ts):
 * `node --import tsx spec/helpers/dns-server.ts ZONE.json LOG READY` listens on 127.0.0.1:53 and
 * creates READY when it does.
 */
import { createSocket } from 'node:dgram';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';

/** Name (no trailing dot, any case) → its addresses. */
export type Zone = Readonly<Record<string, readonly string[]>>;

/** The answer to one query packet. */
export function answer(query: Buffer, zone: Zone, log?: (question: string) => void): Buffer | undefined {
  if (query.length < 17 || query.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let at = 12;
  while (at < query.length && query[at] !== 0) {
    const size = query[at] as number;
    labels.push(query.subarray(at + 1, at + 1 + size).toString('latin1'));
    at += 1 + size;
  }
  const questionEnd = at + 5;
  if (questionEnd > query.length) return undefined;
  const type = query.readUInt16BE(at + 1);
  const name = labels.join('.').toLowerCase();
  log?.(`${name}. ${type === 1 ? 'A' : type === 28 ? 'AAAA' : type}`);
  const entry = Object.entries(zone).find(([n]) => n.toLowerCase().replace(/\.$/, '') === name)?.[1];
  const records = (entry ?? []).filter((a) => (type === 1 ? isIPv4(a) : type === 28 ? !isIPv4(a) : false)).map((a) => (isIPv4(a) ? Buffer.from(a.split('.').map(Number)) : ipv6Bytes(a)));
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2);
  header.writeUInt16BE(0x8000 | 0x0400 | (query.readUInt16BE(2) & 0x0100) | 0x0080 | (entry ? 0 : 3), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(records.length, 6);
  const answers = records.map((rdata) => {
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0);
    rr.writeUInt16BE(type, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(60, 6);
    rr.writeUInt16BE(rdata.length, 10);
    return Buffer.concat([rr, rdata]);
  });
  return Buffer.concat([header, query.subarray(12, questionEnd), ...answers]);
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail] = address.split('::');
  const groups = (text: string): string[] => (text === '' ? [] : text.split(':'));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() as string)) {
  const [zoneFile, logFile, readyFile] = process.argv.slice(2) as [string, string, string];
  const zone = JSON.parse(readFileSync(zoneFile, 'utf8')) as Zone;
  const socket = createSocket('udp4');
  socket.on('message', (msg, peer) => {
    const reply = answer(msg, zone, (q) => appendFileSync(logFile, `${q}\n`));
    if (reply) socket.send(reply, peer.port, peer.address);
  });
  socket.bind(53, '127.0.0.1', () => writeFileSync(readyFile, 'ready\n'));
}
