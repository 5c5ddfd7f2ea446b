import { describe, expect, it } from 'vitest';
import { acknowledger, ACK_STEP, UNACKED_HIGH, UNACKED_LOW, WorkerValve } from '../../lib/fleet/worker-valve.js';

const chunk = (bytes: number) => ({ type: 'chunk' as const, stream: 'stdout' as const, data: Buffer.alloc(bytes) });

describe('WorkerValve (a host\'s flow in its worker)', () => {
  it('pauses above UNACKED_HIGH unacknowledged bytes and reads again only below UNACKED_LOW', () => {
    const valve = new WorkerValve();
    valve.sent(chunk(UNACKED_HIGH));
    expect(valve.flow.paused).toBe(false);
    valve.sent(chunk(1));
    expect(valve.flow.paused).toBe(true);
    valve.acked(UNACKED_HIGH - UNACKED_LOW); // just above the low mark: still paused
    expect(valve.flow.paused).toBe(true);
    valve.acked(2);
    expect(valve.flow.paused).toBe(false);
    valve.sent({ type: 'exec-result', stdout: 'x'.repeat(UNACKED_HIGH * 2) }); // not output: counts nothing
    expect(valve.flow.paused).toBe(false);
  });

  it('the main thread\'s pause holds whatever the credit says; its resume does not lift a credit pause', () => {
    const valve = new WorkerValve();
    valve.main(true);
    expect(valve.flow.paused).toBe(true);
    valve.main(false);
    expect(valve.flow.paused).toBe(false);
    valve.sent(chunk(UNACKED_HIGH + 1));
    valve.main(true);
    valve.main(false);
    expect(valve.flow.paused).toBe(true);
  });
});

describe('acknowledger (the main thread\'s side)', () => {
  it('acknowledges chunk bytes in steps of at least ACK_STEP, and nothing for other values', () => {
    const acks: number[] = [];
    const took = acknowledger((ack) => acks.push(ack.bytes));
    took(chunk(ACK_STEP - 1));
    took({ type: 'exec-result', stdout: 'x'.repeat(ACK_STEP) });
    expect(acks).toEqual([]);
    took(chunk(2));
    expect(acks).toEqual([ACK_STEP + 1]);
    took(chunk(ACK_STEP));
    expect(acks).toEqual([ACK_STEP + 1, ACK_STEP]);
  });
});
