/** Adapters so that index.ts calls every part alike. */
import { manyChannels } from './channels.js';
import { connectLatency } from './connect.js';
import type { Ratio, Row, SshdInfo } from './lib.js';
import { idleConnections, slowConsumer } from './memory.js';

type Part = Promise<{ rows: Row[]; ratios: Ratio[] }>;

export const connectPart = (s: SshdInfo, n: number): Part => connectLatency(s, n);
export const channelsPart = (s: SshdInfo, n: number, reps: number): Part => manyChannels(s, n, reps);
export async function memoryPart(s: SshdInfo, connections: number, bytes: number): Part {
  const idle = await idleConnections(connections);
  const slow = await slowConsumer(s, bytes);
  return { rows: [...idle.rows, ...slow.rows], ratios: [...idle.ratios, ...slow.ratios] };
}
