// The Insights page's inputs (URL query-string parameters, so a view can be shared) as an API
// query, and a saved insight back as those inputs. One mapping, used by the page, by "Save"
// and by the saved charts.
import { lastDays, type FunnelQuery, type InsightKind, type RetentionQuery, type TrendQuery } from '../api/insights';

export const INSIGHT_PARAMS = ['tab', 'event', 'measure', 'interval', 'days', 'by', 'byAudiences', 'steps', 'window', 'start', 'return', 'period', 'audience'] as const;
export type InsightParams = Record<(typeof INSIGHT_PARAMS)[number], string>;

export type InsightQuery =
  | { kind: 'trend'; query: TrendQuery }
  | { kind: 'funnel'; query: FunnelQuery }
  | { kind: 'retention'; query: RetentionQuery };

const TABS: Record<string, InsightKind> = { trends: 'trend', funnels: 'funnel', retention: 'retention' };
const TAB_OF: Record<InsightKind, string> = { trend: 'trends', funnel: 'funnels', retention: 'retention' };

/** The kind of insight a page's `tab` parameter shows (trends by default). */
export const kindOf = (p: Pick<InsightParams, 'tab'>): InsightKind => TABS[p.tab] ?? 'trend';

/** The rolling range in days (30 unless a positive whole number is given). */
export const daysOf = (p: Pick<InsightParams, 'days'>): number => {
  const n = Number(p.days);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, 3650) : 30;
};

/** A funnel's steps from the comma-separated parameter. */
export const stepsOf = (p: Pick<InsightParams, 'steps'>): string[] =>
  p.steps
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const event = (name: string) => (name ? { name } : undefined);

/** A funnel's breakdown from the inputs: by audiences when some are named, else by a property. */
const funnelBreakdown = (p: InsightParams) => {
  const audiences = p.byAudiences
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  if (audiences.length > 0) return { audiences };
  return p.by ? { property: p.by } : undefined;
};
const audience = (p: InsightParams) => p.audience || undefined;

/** The API query for the page's inputs at `now` (null: a funnel with fewer than two steps). */
export function toQuery(p: InsightParams, now: number): InsightQuery | null {
  const range = lastDays(daysOf(p), now);
  switch (kindOf(p)) {
    case 'trend':
      return {
        kind: 'trend',
        query: {
          ...range,
          interval: p.interval === 'hour' ? 'hour' : 'day',
          measure: p.measure === 'profiles' ? 'profiles' : 'events',
          event: event(p.event),
          breakdown: p.by ? { property: p.by } : undefined,
          audience: audience(p),
        },
      };
    case 'funnel': {
      const steps = stepsOf(p);
      if (steps.length < 2) return null;
      const hours = Number(p.window);
      return {
        kind: 'funnel',
        query: {
          ...range,
          steps: steps.map((name) => ({ name })),
          windowMs: (hours > 0 ? hours : 24) * 3_600_000,
          audience: audience(p),
          breakdown: funnelBreakdown(p),
        },
      };
    }
    case 'retention':
      return {
        kind: 'retention',
        query: {
          ...range,
          period: p.period === 'week' ? 'week' : 'day',
          periods: p.period === 'week' ? 8 : 14,
          startEvent: event(p.start),
          returnEvent: event(p.return),
          audience: audience(p),
        },
      };
  }
}

const blank = (): InsightParams => Object.fromEntries(INSIGHT_PARAMS.map((k) => [k, ''])) as InsightParams;

/** A saved insight as the page's inputs (its rolling range as `days`). */
export function toParams(saved: { kind: InsightKind; query: Record<string, unknown>; lastDays?: number | null }): InsightParams {
  const p = blank();
  const q = saved.query as Partial<TrendQuery & FunnelQuery & RetentionQuery>;
  p.tab = TAB_OF[saved.kind];
  p.audience = q.audience ?? '';
  if (saved.lastDays) p.days = String(saved.lastDays);
  switch (saved.kind) {
    case 'trend':
      p.event = q.event?.name ?? '';
      p.measure = q.measure === 'profiles' ? 'profiles' : '';
      p.interval = q.interval === 'hour' ? 'hour' : '';
      p.by = q.breakdown?.property ?? '';
      break;
    case 'funnel':
      p.steps = (q.steps ?? []).map((s) => s.name ?? '').join(', ');
      p.window = q.windowMs ? String(q.windowMs / 3_600_000) : '';
      if (q.breakdown && 'audiences' in q.breakdown) p.byAudiences = q.breakdown.audiences.join(', ');
      else p.by = q.breakdown?.property ?? '';
      break;
    case 'retention':
      p.start = q.startEvent?.name ?? '';
      p.return = q.returnEvent?.name ?? '';
      p.period = q.period === 'week' ? 'week' : '';
      break;
  }
  return p;
}

/** The page's URL query string for these inputs (empty ones left out). */
export function toSearch(p: InsightParams): string {
  const s = new URLSearchParams();
  for (const k of INSIGHT_PARAMS) if (p[k]) s.set(k, p[k]);
  s.sort();
  return s.toString();
}
