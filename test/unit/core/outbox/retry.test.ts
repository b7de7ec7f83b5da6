import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY, retryDelayMs } from '../../../../server/core/outbox/outbox-worker.js';

describe('the outbox retry schedule', () => {
  it('doubles from 10 s to a 1 h cap, before jitter', () => {
    const mid = () => 0.5; // jitter factor 1.0
    const delays = Array.from({ length: DEFAULT_RETRY.maxAttempts - 1 }, (_, i) => retryDelayMs(DEFAULT_RETRY, i + 1, mid) / 1000);
    expect(delays).toEqual([10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]);
    const total = delays.reduce((a, b) => a + b, 0) / 3600;
    expect(total).toBeGreaterThan(3);
    expect(total).toBeLessThan(4);
  });

  it('jitters each delay to between half and one and a half times', () => {
    expect(retryDelayMs(DEFAULT_RETRY, 1, () => 0)).toBe(5_000);
    expect(retryDelayMs(DEFAULT_RETRY, 1, () => 0.999999)).toBe(15_000);
  });
});
