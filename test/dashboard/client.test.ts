import { describe, expect, it } from 'vitest';
import { retryDelayMs, SseParser } from '../../src/dashboard/page/client/sse.js';
import { fmtCount, fmtMs, fmtRate } from '../../src/dashboard/page/client/format.js';

describe('the dashboard page client, outside the browser', () => {
  it('splits Server-Sent Events across chunks, CRLF or LF, skipping pings, comments and other fields', () => {
    const p = new SseParser();
    expect(p.push('data: {"a":')).toEqual([]);
    expect(p.push('1}\n')).toEqual([]);
    expect(p.push('\nping: \n\n: comment\n\nevent: x\r\ndata:{"b":2}\r\n\r\ndata: 1\ndata: 2\n\n')).toEqual(['{"a":1}', '{"b":2}', '1\n2']);
    expect(p.push('data: tail')).toEqual([]);
    expect(p.push('\n\n')).toEqual(['tail']);
  });

  it('backs off 1, 2, 4, 8 s, then 10 s at most, with ±20 % jitter', () => {
    expect([1, 2, 3, 4, 5, 9].map((n) => retryDelayMs(n, 0.5))).toEqual([1000, 2000, 4000, 8000, 10000, 10000]);
    expect(retryDelayMs(1, 0)).toBe(800);
    expect(retryDelayMs(20, 1)).toBe(12000);
  });

  it('formats counts, rates and milliseconds compactly', () => {
    expect([fmtCount(1234), fmtCount(12_345), fmtCount(2_500_000)]).toEqual(['1,234', '12.3k', '2.5M']);
    expect([fmtRate(0), fmtRate(2), fmtRate(42)]).toEqual(['0', '2.0', '42']);
    expect([fmtMs(1.5), fmtMs(2), fmtMs(42.4), fmtMs(350.6), fmtMs(12_000)]).toEqual(['1.5', '2', '42', '351', '12.0s']);
  });
});
