// Live overview: events per second by type, processing lag, ingest errors by code, audience
// sizes — from /metrics and /api/v1/status, polled every 2 s and kept for the last 5 minutes.
import { useEffect, useState } from 'react';
import { audiences, ops } from '../api/herald';
import type { Audience, Status } from '../api/types';
import { Bars } from '../components/Bars';
import { ErrorBox, Loading } from '../components/States';
import { TimeChart } from '../components/TimeChart';
import { formatCount } from '../lib/format';
import { parseMetrics, rates, sumBy } from '../lib/metrics';

const POLL_MS = 2000;
const KEEP = 150;

interface Point {
  t: number;
  byType: Record<string, number>;
  lag: number;
}

export default function Overview() {
  const [points, setPoints] = useState<Point[]>([]);
  const [status, setStatus] = useState<Status | null>(null);
  const [rejected, setRejected] = useState<Record<string, number>>({});
  const [list, setList] = useState<Audience[] | null>(null);
  const [error, setError] = useState<Error | null>(null);

  useEffect(() => {
    let last: { t: number; received: Record<string, number> } | null = null;
    let live = true;
    const poll = async () => {
      try {
        const [text, st, auds] = await Promise.all([ops.metrics(), ops.status(), audiences.list()]);
        if (!live) return;
        const samples = parseMetrics(text);
        const received = sumBy(samples, 'herald_events_received_total', 'type');
        const t = Date.now() / 1000;
        if (last) {
          const byType = rates(last.received, received, t - last.t);
          setPoints((p) => [...p.slice(-KEEP + 1), { t, byType, lag: st.lag }]);
        }
        last = { t, received };
        setStatus(st);
        setRejected(sumBy(samples, 'herald_events_rejected_total', 'reason'));
        setList(auds);
        setError(null);
      } catch (e) {
        if (live) setError(e as Error);
      }
    };
    void poll();
    const timer = setInterval(poll, POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, []);

  const types = [...new Set(points.flatMap((p) => Object.keys(p.byType)))];
  const times = points.map((p) => p.t);
  const series = Object.fromEntries(types.map((ty) => [ty, points.map((p) => p.byType[ty] ?? 0)]));
  const errors = Object.entries(rejected).sort((a, b) => b[1] - a[1]);

  return (
    <section>
      <h1>Overview</h1>
      {error && <ErrorBox error={error} />}
      {!status && !error && <Loading what="the overview" />}
      {status && (
        <>
          <div className="tiles">
            <Tile label="Events stored" value={status.log_head} />
            <Tile label="Processed" value={status.processed} />
            <Tile label="Processing lag (events)" value={status.lag} />
            <Tile label="Audiences" value={list?.length ?? 0} />
            <Tile label="Quarantined" value={status.quarantined_events} />
          </div>
          <div className="grid2">
            <div className="card">
              <h2>Events per second, by type</h2>
              {points.length < 2 ? (
                <p className="state empty">Collecting: the chart starts after two readings (4 s).</p>
              ) : types.length === 0 ? (
                <p className="state empty">No events received since Herald started.</p>
              ) : (
                <TimeChart label="Events per second by type" times={times} series={series} />
              )}
            </div>
            <div className="card">
              <h2>Processing lag</h2>
              {points.length < 2 ? (
                <p className="state empty">Collecting…</p>
              ) : (
                <TimeChart label="Processing lag in events" times={times} series={{ lag: points.map((p) => p.lag) }} />
              )}
            </div>
            <div className="card">
              <h2>Ingest errors by code</h2>
              {errors.length === 0 ? <p className="state empty">No rejected events since Herald started.</p> : <Bars label="Rejected events by code" rows={errors} />}
            </div>
            <div className="card">
              <h2>Audience sizes</h2>
              {!list || list.length === 0 ? (
                <p className="state empty">No audiences yet.</p>
              ) : (
                <Bars label="Audience sizes" rows={list.map((a) => [a.name, a.size])} />
              )}
            </div>
          </div>
        </>
      )}
    </section>
  );
}

function Tile({ label, value }: { label: string; value: number }) {
  return (
    <div className="tile">
      <div className="tile-value">{formatCount(value, true)}</div>
      <div className="tile-label">{label}</div>
    </div>
  );
}
