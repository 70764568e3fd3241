// Trends, funnels and retention over the event log; every input is in the URL.
import { type FormEvent } from 'react';
import { useSearchParams } from 'react-router';
import { insights, lastDays, seriesName } from '../api/insights';
import { Async, Empty } from '../components/States';
import { TimeChart } from '../components/TimeChart';
import { readFilters, withFilters } from '../lib/filters';
import { formatCount } from '../lib/format';
import { useAsync } from '../lib/useAsync';

const KEYS = ['tab', 'event', 'measure', 'interval', 'days', 'by', 'steps', 'window', 'start', 'return', 'period', 'audience'] as const;
type Params = Record<(typeof KEYS)[number], string>;

export default function Insights() {
  const [search, setSearch] = useSearchParams();
  const p = readFilters(search, KEYS);
  const tab = p.tab || 'trends';
  const apply = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setSearch(withFilters(search, Object.fromEntries([...form.entries()].map(([k, v]) => [k, String(v)]))));
  };
  return (
    <section>
      <h1>Insights</h1>
      <div className="tabs" role="tablist" aria-label="Insight">
        {['trends', 'funnels', 'retention'].map((t) => (
          <button key={t} type="button" role="tab" aria-selected={tab === t} onClick={() => setSearch(withFilters(search, { tab: t }))}>
            {t[0]!.toUpperCase() + t.slice(1)}
          </button>
        ))}
      </div>
      <form className="filters" onSubmit={apply} key={search.toString()}>
        {tab === 'trends' && (
          <>
            <Field name="event" label="Event" p={p} placeholder="any event" />
            <Select name="measure" label="Count" p={p} options={['events', 'profiles']} />
            <Select name="interval" label="By" p={p} options={['day', 'hour']} />
            <Field name="by" label="Break down by property" p={p} placeholder="none" />
          </>
        )}
        {tab === 'funnels' && (
          <>
            <Field name="steps" label="Steps (comma-separated events)" p={p} placeholder="Signed Up, Checkout Started, Order Completed" wide />
            <Field name="window" label="Within (hours)" p={p} placeholder="24" />
          </>
        )}
        {tab === 'retention' && (
          <>
            <Field name="start" label="Cohort by first" p={p} placeholder="any event" />
            <Field name="return" label="Returning with" p={p} placeholder="any event" />
            <Select name="period" label="Period" p={p} options={['day', 'week']} />
          </>
        )}
        <Field name="days" label="Last days" p={p} placeholder="30" />
        <Field name="audience" label="Audience" p={p} placeholder="everyone" />
        <button type="submit" className="primary">
          Run
        </button>
      </form>
      {tab === 'trends' && <Trend p={p} />}
      {tab === 'funnels' && <Funnel p={p} />}
      {tab === 'retention' && <Retention p={p} />}
    </section>
  );
}

function Field(props: { name: keyof Params; label: string; p: Params; placeholder?: string; wide?: boolean }) {
  return (
    <label className={props.wide ? 'grow' : ''}>
      {props.label}
      <input name={props.name} defaultValue={props.p[props.name]} placeholder={props.placeholder} />
    </label>
  );
}

function Select(props: { name: keyof Params; label: string; p: Params; options: string[] }) {
  return (
    <label>
      {props.label}
      <select name={props.name} defaultValue={props.p[props.name] || props.options[0]}>
        {props.options.map((o) => (
          <option key={o}>{o}</option>
        ))}
      </select>
    </label>
  );
}

const range = (p: Params) => lastDays(Math.max(1, Number(p.days) || 30), Date.now());
const event = (name: string) => (name ? { name } : undefined);

function Trend({ p }: { p: Params }) {
  const [state, retry] = useAsync(
    () =>
      insights.trends({
        ...range(p),
        interval: p.interval === 'hour' ? 'hour' : 'day',
        measure: p.measure === 'profiles' ? 'profiles' : 'events',
        event: event(p.event),
        breakdown: p.by ? { property: p.by } : undefined,
        audience: p.audience || undefined,
      }),
    [JSON.stringify(p)],
  );
  return (
    <div className="card">
      <Async state={state} what="the trend" retry={retry}>
        {(r) =>
          r.series.every((s) => s.total === 0) ? (
            <Empty>No matching events in this range.</Empty>
          ) : (
            <>
              <TimeChart
                label="Trend"
                bars={r.series.length === 1}
                times={r.buckets.map((b) => Date.parse(b) / 1000)}
                series={Object.fromEntries(r.series.map((s) => [seriesName(s.breakdown), s.data]))}
              />
              <p className="help" data-testid="trend-totals">
                {r.series.map((s) => `${seriesName(s.breakdown)}: ${formatCount(s.total)}`).join(' · ')}
              </p>
            </>
          )
        }
      </Async>
    </div>
  );
}

function Funnel({ p }: { p: Params }) {
  const steps = p.steps
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const [state, retry] = useAsync(
    () =>
      steps.length < 2
        ? Promise.resolve(null)
        : insights.funnels({
            ...range(p),
            steps: steps.map((name) => ({ name })),
            windowMs: Math.max(1, Number(p.window) || 24) * 3_600_000,
            audience: p.audience || undefined,
          }),
    [JSON.stringify(p)],
  );
  return (
    <div className="card">
      <Async state={state} what="the funnel" retry={retry}>
        {(r) =>
          !r ? (
            <Empty>Name at least two steps.</Empty>
          ) : (
            <ol className="funnel" aria-label="Funnel">
              {r.steps.map((s, i) => {
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
          )
        }
      </Async>
    </div>
  );
}

function formatDuration(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

function Retention({ p }: { p: Params }) {
  const [state, retry] = useAsync(
    () =>
      insights.retention({
        ...range(p),
        period: p.period === 'week' ? 'week' : 'day',
        periods: p.period === 'week' ? 8 : 14,
        startEvent: event(p.start),
        returnEvent: event(p.return),
        audience: p.audience || undefined,
      }),
    [JSON.stringify(p)],
  );
  return (
    <div className="card">
      <Async state={state} what="retention" retry={retry}>
        {(r) =>
          r.cohorts.length === 0 ? (
            <Empty>No cohort in this range.</Empty>
          ) : (
            <table className="table retention">
              <thead>
                <tr>
                  <th>Cohort</th>
                  <th className="num">Size</th>
                  {r.cohorts[0]!.values.map((_, k) => (
                    <th key={k} className="num">
                      {k === 0 ? (p.period === 'week' ? 'Week 0' : 'Day 0') : k}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {r.cohorts.map((c) => (
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
          )
        }
      </Async>
    </div>
  );
}
