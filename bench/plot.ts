/** A small SVG bar chart of bulk throughput and connect latency per client. */
import type { Row } from './lib.js';

const COLORS: Record<string, string> = { rxssh: '#c2185b', 'rxssh (for await)': '#e91e63', ssh2: '#1976d2', 'ssh2 (defaults)': '#1976d2', ssh: '#388e3c', asyncssh: '#f57c00' };

function bars(title: string, items: Array<{ label: string; client: string; value: number }>, unit: string, y0: number): string {
  const max = Math.max(1, ...items.map((i) => i.value));
  const width = 560;
  let out = `<text x="10" y="${y0}" font-size="14" font-weight="bold">${title}</text>`;
  items.forEach((item, i) => {
    const y = y0 + 12 + i * 20;
    const w = (item.value / max) * (width - 280);
    out += `<text x="10" y="${y + 12}" font-size="11">${item.label} — ${item.client}</text>`;
    out += `<rect x="260" y="${y}" width="${w.toFixed(1)}" height="15" fill="${COLORS[item.client] ?? '#777'}"/>`;
    out += `<text x="${(265 + w).toFixed(1)}" y="${y + 12}" font-size="11">${item.value.toFixed(0)} ${unit}</text>`;
  });
  return out;
}

export function svg(rows: readonly Row[]): string {
  const bulk = rows
    .filter((r) => r.part === 'bulk')
    .map((r) => ({ label: r.case, client: r.client, value: Number.parseFloat(r.note ?? '0') }));
  const connect = rows.filter((r) => r.part === 'connect').map((r) => ({ label: 'connect', client: r.client, value: r.median }));
  const h1 = 30 + bulk.length * 20;
  const height = h1 + 50 + connect.length * 20 + 20;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="720" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
${bars('Bulk throughput (MiB/s, higher is better)', bulk, 'MiB/s', 20)}
${bars('Connect + auth + exec true + close (ms, lower is better)', connect, 'ms', h1 + 40)}
</svg>
`;
}
