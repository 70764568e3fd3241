import { describe, expect, it } from 'vitest';
import { parseMetrics, rates, sumBy } from './metrics';

const text = `# HELP herald_events_received_total Events received
# TYPE herald_events_received_total counter
herald_events_received_total{type="track"} 10
herald_events_received_total{type="identify",node="a"} 4
herald_events_received_total{type="identify",node="b"} 1
herald_events_rejected_total{reason="invalid_event"} 3
herald_events_rejected_total{reason="with \\"quote\\""} 1
herald_log_head 42
`;

describe('metrics', () => {
  it('parses samples with labels and escapes', () => {
    const samples = parseMetrics(text);
    expect(samples).toHaveLength(6);
    expect(samples[5]).toEqual({ name: 'herald_log_head', labels: {}, value: 42 });
    expect(sumBy(samples, 'herald_events_rejected_total', 'reason')).toEqual({ invalid_event: 3, 'with "quote"': 1 });
  });
  it('sums by a label', () => {
    expect(sumBy(parseMetrics(text), 'herald_events_received_total', 'type')).toEqual({ track: 10, identify: 5 });
  });
  it('turns two readings into rates, a reset into 0', () => {
    expect(rates({ track: 10, identify: 9 }, { track: 30, identify: 2, page: 4 }, 2)).toEqual({ track: 10, identify: 0, page: 2 });
    expect(rates({}, { track: 3 }, 0)).toEqual({ track: 0 });
  });
});
