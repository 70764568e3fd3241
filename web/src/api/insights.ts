// Insights queries (POST /api/v1/insights/{trends,funnels,retention}, docs/insights.md).
import { request } from './client';

export interface EventFilter {
  name?: string;
  type?: string;
}

export type BreakdownValue = { kind: 'value'; value: string } | { kind: 'none' } | { kind: 'other' } | { kind: 'audience'; id: string };

export interface TrendQuery {
  from: string;
  to: string;
  interval: 'hour' | 'day';
  measure: 'events' | 'profiles';
  event?: EventFilter;
  breakdown?: { property: string; limit?: number };
  audience?: string;
}

export interface TrendResult {
  buckets: string[];
  series: { breakdown?: BreakdownValue; data: number[]; total: number }[];
}

/** A funnel's breakdown: the property of each profile's first step, or audiences. */
export type FunnelBreakdown = { property: string; limit?: number } | { audiences: string[] };

export interface FunnelQuery {
  from: string;
  to: string;
  steps: EventFilter[];
  windowMs: number;
  audience?: string;
  breakdown?: FunnelBreakdown;
}

export interface FunnelStep {
  name: string | null;
  count: number;
  conversionFromFirst: number | null;
  conversionFromPrevious: number | null;
  medianMsFromPrevious: number | null;
  averageMsFromPrevious: number | null;
}

export interface FunnelResult {
  steps: FunnelStep[];
  /** One series per breakdown value; empty without a breakdown. */
  breakdown?: { breakdown: BreakdownValue; steps: FunnelStep[] }[];
}

export interface RetentionQuery {
  from: string;
  to: string;
  period: 'day' | 'week';
  periods: number;
  startEvent?: EventFilter;
  returnEvent?: EventFilter;
  audience?: string;
}

export interface RetentionResult {
  cohorts: { start: string; size: number; values: (number | null)[]; percentages: (number | null)[] }[];
}

export type InsightKind = 'trend' | 'funnel' | 'retention';

/** A saved chart (docs/insights.md, "Saved insights"). */
export interface SavedInsight {
  id: string;
  name: string;
  kind: InsightKind;
  query: Record<string, unknown>;
  lastDays?: number | null;
  createdAt: string;
  updatedAt: string;
}

export interface SavedInsightInput {
  name: string;
  kind: InsightKind;
  query: TrendQuery | FunnelQuery | RetentionQuery;
  lastDays?: number;
}

/** A saved insight run now: the range it covered and its result (of the insight's kind). */
export interface SavedInsightRun {
  insight: SavedInsight;
  from: string;
  to: string;
  result: TrendResult | FunnelResult | RetentionResult;
}

const saved = (id: string) => `/api/v1/insights/saved/${encodeURIComponent(id)}`;

export const insights = {
  trends: (q: TrendQuery) => request<TrendResult>('POST', '/api/v1/insights/trends', q),
  funnels: (q: FunnelQuery) => request<FunnelResult>('POST', '/api/v1/insights/funnels', q),
  retention: (q: RetentionQuery) => request<RetentionResult>('POST', '/api/v1/insights/retention', q),
  saved: () => request<SavedInsight[]>('GET', '/api/v1/insights/saved'),
  save: (input: SavedInsightInput) => request<SavedInsight>('POST', '/api/v1/insights/saved', input),
  run: (id: string) => request<SavedInsightRun>('POST', `${saved(id)}/run`),
  remove: (id: string) => request<void>('DELETE', saved(id)),
};

/** A series' name in a legend. */
export function seriesName(b: BreakdownValue | undefined): string {
  if (!b) return 'all';
  switch (b.kind) {
    case 'value':
      return b.value;
    case 'none':
      return '(not set)';
    case 'other':
      return '(other)';
    case 'audience':
      return `audience ${b.id}`;
  }
}

/** [from, to) covering the last `days` whole UTC days up to the end of `now`'s day. */
export function lastDays(days: number, now: number): { from: string; to: string } {
  const end = new Date(now);
  end.setUTCHours(24, 0, 0, 0);
  return { from: new Date(end.getTime() - days * 86_400_000).toISOString(), to: end.toISOString() };
}
