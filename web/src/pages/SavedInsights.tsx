// The saved charts: every saved insight run now (over its rolling range), drawn as a grid;
// each opens in Insights with its inputs, and admins can delete one.
import { Link } from 'react-router';
import { insights, type FunnelResult, type RetentionResult, type SavedInsight, type TrendResult } from '../api/insights';
import { ConfirmButton } from '../components/Confirm';
import { FunnelChart, RetentionTable, TrendChart } from '../components/InsightCharts';
import { Async, Empty } from '../components/States';
import { toParams, toSearch } from '../lib/insightQuery';
import { useAsync } from '../lib/useAsync';
import { useCanWrite } from '../session';

export default function SavedInsights() {
  const [state, reload] = useAsync(() => insights.saved(), []);
  return (
    <section>
      <h1>Saved charts</h1>
      <p className="help">
        Every chart runs now over its range. Build one in <Link to="/insights">Insights</Link> and save it there.
      </p>
      <Async state={state} what="the saved charts" retry={reload}>
        {(list) =>
          list.length === 0 ? (
            <Empty>No saved chart yet.</Empty>
          ) : (
            <div className="chart-grid">
              {list.map((s) => (
                <SavedChart key={s.id} saved={s} onDeleted={reload} />
              ))}
            </div>
          )
        }
      </Async>
    </section>
  );
}

function SavedChart({ saved, onDeleted }: { saved: SavedInsight; onDeleted: () => void }) {
  const canWrite = useCanWrite();
  const [state, retry] = useAsync(() => insights.run(saved.id), [saved.id, saved.updatedAt]);
  const period = saved.query.period === 'week' ? 'week' : 'day';
  return (
    <article className="card" data-testid="saved-chart" aria-labelledby={`saved-${saved.id}`}>
      <header className="card-header">
        <h2 id={`saved-${saved.id}`}>
          <Link to={`/insights?${toSearch(toParams(saved))}`}>{saved.name}</Link>
        </h2>
        <span className="help">
          {saved.kind}
          {saved.lastDays ? ` · last ${saved.lastDays} days` : ''}
        </span>
        {canWrite && (
          <ConfirmButton
            label="Delete"
            title={`Delete “${saved.name}”?`}
            confirmLabel="Delete chart"
            danger
            onConfirm={async () => {
              await insights.remove(saved.id);
              onDeleted();
            }}
          >
            The chart goes for every dashboard user. The events it counted stay.
          </ConfirmButton>
        )}
      </header>
      <Async state={state} what={saved.name} retry={retry}>
        {(run) =>
          saved.kind === 'trend' ? (
            <TrendChart result={run.result as TrendResult} label={saved.name} />
          ) : saved.kind === 'funnel' ? (
            <FunnelChart result={run.result as FunnelResult} />
          ) : (
            <RetentionTable result={run.result as RetentionResult} period={period} />
          )
        }
      </Async>
    </article>
  );
}
