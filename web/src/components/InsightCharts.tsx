// An insight's result drawn: a trend as a time chart, a funnel as bars, retention as a
// heat table. Used by the Insights page and by the saved charts.
import { seriesName, type FunnelResult, type RetentionResult, type TrendResult } from '../api/insights';
import { formatCount } from '../lib/format';
import { Empty } from './States';
import { TimeChart } from './TimeChart';

export function TrendChart({ result, label = 'Trend' }: { result: TrendResult; label?: string }) {
  if (result.series.every((s) => s.total === 0)) return <Empty>No matching events in this range.</Empty>;
  return (
    <>
      <TimeChart
        label={label}
        bars={result.series.length === 1}
        times={result.buckets.map((b) => Date.parse(b) / 1000)}
        series={Object.fromEntries(result.series.map((s) => [seriesName(s.breakdown), s.data]))}
      />
      <p className="help" data-testid="trend-totals">
        {result.series.map((s) => `${seriesName(s.breakdown)}: ${formatCount(s.total)}`).join(' · ')}
      </p>
    </>
  );
}

export function FunnelChart({ result }: { result: FunnelResult }) {
  return (
    <>
      <FunnelBars steps={result.steps} />
      {result.breakdown && result.breakdown.length > 0 && <FunnelBreakdownTable result={result} />}
    </>
  );
}

/** Each breakdown series' count per step, with its conversion from the first step. */
function FunnelBreakdownTable({ result }: { result: FunnelResult }) {
  return (
    <table className="table" aria-label="Funnel by breakdown">
      <thead>
        <tr>
          <th>Series</th>
          {result.steps.map((s, i) => (
            <th key={i} className="num">
              {i + 1}. {s.name ?? 'any event'}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {result.breakdown!.map((b) => (
          <tr key={seriesName(b.breakdown)} data-testid="funnel-series">
            <td>{seriesName(b.breakdown)}</td>
            {b.steps.map((s, i) => (
              <td key={i} className="num">
                {formatCount(s.count)}
                {i > 0 && s.conversionFromFirst !== null && <span className="help"> {(s.conversionFromFirst * 100).toFixed(1)}%</span>}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function FunnelBars({ steps }: { steps: FunnelResult['steps'] }) {
  return (
    <ol className="funnel" aria-label="Funnel">
      {steps.map((s, i) => {
        const share = s.conversionFromFirst ?? 0;
        return (
          <li key={i} data-testid="funnel-step">
            <span className="bar-label">
              {i + 1}. {s.name ?? 'any event'}
            </span>
            <span className="bar" style={{ width: `${Math.max(0.5, share * 100)}%` }} />
            <span className="bar-value">
              <span data-testid="funnel-count">{formatCount(s.count)}</span> ({(share * 100).toFixed(1)}%)
              {s.medianMsFromPrevious !== null && ` · median ${formatDuration(s.medianMsFromPrevious)}`}
            </span>
          </li>
        );
      })}
    </ol>
  );
}

export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

export function RetentionTable({ result, period }: { result: RetentionResult; period: 'day' | 'week' }) {
  if (result.cohorts.length === 0) return <Empty>No cohort in this range.</Empty>;
  return (
    <table className="table retention">
      <thead>
        <tr>
          <th>Cohort</th>
          <th className="num">Size</th>
          {result.cohorts[0]!.values.map((_, k) => (
            <th key={k} className="num">
              {k === 0 ? (period === 'week' ? 'Week 0' : 'Day 0') : k}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {result.cohorts.map((c) => (
          <tr key={c.start}>
            <td>{c.start.slice(0, 10)}</td>
            <td className="num">{formatCount(c.size)}</td>
            {c.percentages.map((v, k) => (
              <td key={k} className="num heat" style={{ ['--heat' as string]: String((v ?? 0) / 100) }}>
                {v === null ? '' : `${v.toFixed(0)}%`}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
