// Trends, funnels and retention over the event log; every input is in the URL. Admins save
// what they see as a chart of the saved-charts page (SavedInsights.tsx).
import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { insights, type FunnelResult, type RetentionResult, type TrendResult } from '../api/insights';
import { FunnelChart, RetentionTable, TrendChart } from '../components/InsightCharts';
import { Async, Empty } from '../components/States';
import { readFilters, withFilters } from '../lib/filters';
import { daysOf, INSIGHT_PARAMS, kindOf, toQuery, type InsightParams } from '../lib/insightQuery';
import { useAsync } from '../lib/useAsync';
import { useCanWrite } from '../session';

export default function Insights() {
  const [search, setSearch] = useSearchParams();
  const p = readFilters(search, INSIGHT_PARAMS);
  const tab = p.tab || 'trends';
  const apply = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setSearch(withFilters(search, Object.fromEntries([...form.entries()].map(([k, v]) => [k, String(v)]))));
  };
  return (
    <section>
      <h1>Insights</h1>
      <p className="help">
        <Link to="/insights/saved">Saved charts</Link>
      </p>
      <div className="tabs" role="tablist" aria-label="Insight">
        {['trends', 'funnels', 'retention'].map((t) => (
          <button key={t} type="button" role="tab" aria-selected={tab === t} onClick={() => setSearch(withFilters(search, { tab: t }))}>
            {t[0]!.toUpperCase() + t.slice(1)}
          </button>
        ))}
      </div>
      <form className="filters" onSubmit={apply} key={`inputs:${search.toString()}`}>
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
            <Field name="by" label="Break down by property" p={p} placeholder="none" />
            <Field name="byAudiences" label="… or by audiences" p={p} placeholder="vips, trials" />
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
      <Result p={p} />
      <Save p={p} key={`save:${search.toString()}`} />
    </section>
  );
}

function Field(props: { name: keyof InsightParams; label: string; p: InsightParams; placeholder?: string; wide?: boolean }) {
  return (
    <label className={props.wide ? 'grow' : ''}>
      {props.label}
      <input name={props.name} defaultValue={props.p[props.name]} placeholder={props.placeholder} />
    </label>
  );
}

function Select(props: { name: keyof InsightParams; label: string; p: InsightParams; options: string[] }) {
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

function Result({ p }: { p: InsightParams }) {
  const kind = kindOf(p);
  const [state, retry] = useAsync(async () => {
    const q = toQuery(p, Date.now());
    if (!q) return null;
    if (q.kind === 'trend') return { kind: q.kind, trend: await insights.trends(q.query) };
    if (q.kind === 'funnel') return { kind: q.kind, funnel: await insights.funnels(q.query) };
    return { kind: q.kind, retention: await insights.retention(q.query) };
  }, [JSON.stringify(p)]);
  const what = kind === 'trend' ? 'the trend' : kind === 'funnel' ? 'the funnel' : 'retention';
  return (
    <div className="card">
      <Async state={state} what={what} retry={retry}>
        {(r) =>
          !r ? (
            <Empty>Name at least two steps.</Empty>
          ) : (
            <InsightView
              trend={r.kind === 'trend' ? r.trend : undefined}
              funnel={r.kind === 'funnel' ? r.funnel : undefined}
              retention={r.kind === 'retention' ? r.retention : undefined}
              period={p.period === 'week' ? 'week' : 'day'}
            />
          )
        }
      </Async>
    </div>
  );
}

function InsightView(props: { trend?: TrendResult; funnel?: FunnelResult; retention?: RetentionResult; period: 'day' | 'week' }) {
  if (props.trend) return <TrendChart result={props.trend} />;
  if (props.funnel) return <FunnelChart result={props.funnel} />;
  if (props.retention) return <RetentionTable result={props.retention} period={props.period} />;
  return null;
}

/** Save the insight on screen, with its range kept rolling (the last N days). Admins only. */
function Save({ p }: { p: InsightParams }) {
  const canWrite = useCanWrite();
  const [state, setState] = useState<{ status: 'idle' | 'saving' } | { status: 'saved'; name: string } | { status: 'error'; message: string }>({
    status: 'idle',
  });
  if (!canWrite) return null;
  const save = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const name = String(new FormData(e.currentTarget).get('name') ?? '').trim();
    const q = toQuery(p, Date.now());
    if (!q) return setState({ status: 'error', message: 'Name at least two steps first.' });
    setState({ status: 'saving' });
    try {
      await insights.save({ name, kind: q.kind, query: q.query, lastDays: daysOf(p) });
      setState({ status: 'saved', name });
    } catch (err) {
      setState({ status: 'error', message: (err as Error).message });
    }
  };
  return (
    <form className="filters" onSubmit={save} aria-label="Save this insight">
      <label className="grow">
        Save as
        <input name="name" required maxLength={200} placeholder="Daily signups" />
      </label>
      <button type="submit" disabled={state.status === 'saving'}>
        Save chart
      </button>
      {state.status === 'saved' && (
        <p className="state notice" role="status">
          Saved “{state.name}” to <Link to="/insights/saved">saved charts</Link>.
        </p>
      )}
      {state.status === 'error' && (
        <p className="state error" role="alert">
          {state.message}
        </p>
      )}
    </form>
  );
}
