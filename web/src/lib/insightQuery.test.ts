import { describe, expect, it } from 'vitest';
import { INSIGHT_PARAMS, toParams, toQuery, toSearch, type InsightParams } from './insightQuery';

const params = (given: Partial<InsightParams>): InsightParams =>
  Object.fromEntries(INSIGHT_PARAMS.map((k) => [k, given[k] ?? ''])) as InsightParams;

const NOW = Date.parse('2026-03-10T17:45:00Z');

describe('toQuery', () => {
  it('builds a trend over the last days, up to the end of today', () => {
    const q = toQuery(params({ event: 'Signed Up', days: '7', by: 'plan', measure: 'profiles' }), NOW);
    expect(q).toEqual({
      kind: 'trend',
      query: {
        from: '2026-03-04T00:00:00.000Z',
        to: '2026-03-11T00:00:00.000Z',
        interval: 'day',
        measure: 'profiles',
        event: { name: 'Signed Up' },
        breakdown: { property: 'plan' },
        audience: undefined,
      },
    });
  });

  it('refuses a funnel of one step, and reads the window in hours', () => {
    expect(toQuery(params({ tab: 'funnels', steps: 'A' }), NOW)).toBeNull();
    const q = toQuery(params({ tab: 'funnels', steps: 'A, B ,,C', window: '2' }), NOW);
    expect(q?.kind).toBe('funnel');
    expect(q?.kind === 'funnel' && q.query.steps).toEqual([{ name: 'A' }, { name: 'B' }, { name: 'C' }]);
    expect(q?.kind === 'funnel' && q.query.windowMs).toBe(7_200_000);
    expect(q?.kind === 'funnel' && q.query.breakdown).toBeUndefined();
    // Audiences win over a property when both are given.
    const by = toQuery(params({ tab: 'funnels', steps: 'A, B', by: 'plan', byAudiences: ' vips ,, trials ' }), NOW);
    expect(by?.kind === 'funnel' && by.query.breakdown).toEqual({ audiences: ['vips', 'trials'] });
    const byProperty = toQuery(params({ tab: 'funnels', steps: 'A, B', by: 'plan' }), NOW);
    expect(byProperty?.kind === 'funnel' && byProperty.query.breakdown).toEqual({ property: 'plan' });
  });

  it('falls back to 30 days for a range that is not a positive whole number', () => {
    for (const days of ['', '0', '-3', '2.5', 'x']) {
      const q = toQuery(params({ days }), NOW)!;
      expect(Date.parse(q.query.to) - Date.parse(q.query.from)).toBe(30 * 86_400_000);
    }
  });
});

describe('toParams', () => {
  const cases: Partial<InsightParams>[] = [
    { tab: 'trends', event: 'Viewed', measure: 'profiles', interval: 'hour', by: 'plan', days: '14', audience: 'vip' },
    { tab: 'trends', days: '30' },
    { tab: 'funnels', steps: 'A, B, C', window: '48', days: '7' },
    { tab: 'funnels', steps: 'A, B', window: '24', by: 'country', days: '7' },
    { tab: 'funnels', steps: 'A, B', window: '24', byAudiences: 'vips, trials', days: '7' },
    { tab: 'retention', start: 'Signed Up', return: 'Viewed', period: 'week', days: '60' },
  ];
  it.each(cases)('round-trips %o through a saved query', (given) => {
    const p = params(given);
    const q = toQuery(p, NOW)!;
    const back = toParams({ kind: q.kind, query: q.query as unknown as Record<string, unknown>, lastDays: Number(p.days) });
    expect(toSearch(back)).toBe(toSearch(p));
    expect(toQuery(back, NOW)).toEqual(q);
  });
});
