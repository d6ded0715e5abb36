import { describe, expect, it } from 'vitest';
import { openLoop } from '../../traffic/load';

// A server that answers one request at a time, each after 5 ms (a timer may fire up to 1 ms early
// on the event loop's clock, so at least 4): at 1,000 requests/s, request k is due at k ms but
// cannot start before about 4k ms.
const slow = () => new Promise<boolean>((r) => setTimeout(() => r(true), 5));

describe('openLoop', () => {
  it('counts latency from the schedule when asked, so a stall counts against every request it delays', async () => {
    const fromSchedule = await openLoop({ rate: 1000, durationMs: 20, send: slow, maxInFlight: 1, fromSchedule: true });
    expect(fromSchedule.ok).toBe(20);
    // The last request (due at 19 ms) was sent after 19 earlier ones of ≥ 4 ms each: ≥ 76 − 19 ms late.
    expect(fromSchedule.latency.maxMs).toBeGreaterThanOrEqual(19 * 4 - 19);
  });

  it('counts from the send by default: the queueing in the client is not in the latency', async () => {
    const fromSend = await openLoop({ rate: 1000, durationMs: 20, send: slow, maxInFlight: 1 });
    expect(fromSend.ok).toBe(20);
    expect(fromSend.latency.p50Ms).toBeGreaterThanOrEqual(3.9);
    // The client's lag is reported apart, not added to the latency.
    expect(fromSend.maxScheduleLagMs).toBeGreaterThanOrEqual(19 * 4 - 19);
  });
});
