// One audience: definition, backfill progress, size history, members with CSV export.
import { useEffect, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { audiences } from '../api/herald';
import type { Member } from '../api/types';
import { ConfirmButton } from '../components/Confirm';
import { Async, Empty } from '../components/States';
import { TimeChart } from '../components/TimeChart';
import { formatCount, formatTime, formatValue } from '../lib/format';
import { useAsync } from '../lib/useAsync';
import { useCanWrite } from '../session';

export default function Audience() {
  const id = useParams().id ?? '';
  const navigate = useNavigate();
  const canWrite = useCanWrite();
  const [state, retry] = useAsync(() => audiences.get(id), [id]);
  // Poll while the backfill runs.
  const ready = state.status === 'done' && state.data.ready;
  useEffect(() => {
    if (state.status !== 'done' || ready) return;
    const t = setTimeout(retry, 1000);
    return () => clearTimeout(t);
  }, [state, ready, retry]);
  return (
    <Async state={state} what="the audience" retry={retry}>
      {(a) => (
        <section>
          <div className="title-row">
            <h1>{a.name}</h1>
            {canWrite && (
              <>
                <Link className="button" to={`/audiences/${encodeURIComponent(a.id)}/edit`}>
                  Edit
                </Link>
                <ConfirmButton
                  label="Delete…"
                  title={`Delete the audience ${a.name}?`}
                  confirmLabel="Delete"
                  danger
                  onConfirm={async () => {
                    await audiences.remove(a.id);
                    navigate('/audiences');
                  }}
                >
                  Its membership history goes with it.
                </ConfirmButton>
              </>
            )}
          </div>
          {a.description && <p>{a.description}</p>}
          <pre className="rule">{a.rule_text}</pre>
          <div className="tiles">
            <div className="tile">
              <div className="tile-value" data-testid="audience-size">{formatCount(a.size)}</div>
              <div className="tile-label">members</div>
            </div>
            <div className="tile">
              <div className="tile-value" data-testid="audience-state">
                {a.ready ? 'ready' : a.backfill.state}
              </div>
              <div className="tile-label">
                backfill {a.backfill.total > 0 ? `${a.backfill.done}/${a.backfill.total}` : ''}
              </div>
              {!a.ready && <progress max={Math.max(1, a.backfill.total)} value={a.backfill.done} aria-label="Backfill progress" />}
            </div>
          </div>
          <SizeHistory id={a.id} />
          {/* Read again once the backfill is done: members found meanwhile are shown then. */}
          <Members key={`${a.id}:${a.ready}:${a.size}`} id={a.id} />
        </section>
      )}
    </Async>
  );
}

function SizeHistory({ id }: { id: string }) {
  const [state, retry] = useAsync(() => audiences.sizeHistory(id), [id]);
  return (
    <div className="card">
      <h2>Size over time</h2>
      <Async state={state} what="the size history" retry={retry}>
        {(points) =>
          points.length === 0 ? (
            <Empty>No membership changes yet.</Empty>
          ) : (
            <TimeChart
              label="Audience size per day"
              times={points.map((p) => Date.parse(p.date) / 1000)}
              series={{ size: points.map((p) => p.size), entered: points.map((p) => p.entered), exited: points.map((p) => p.exited) }}
            />
          )
        }
      </Async>
    </div>
  );
}

function Members({ id }: { id: string }) {
  const [more, setMore] = useState<Member[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [state, retry] = useAsync(async () => {
    const page = await audiences.members(id);
    setMore([]);
    setCursor(page.next_cursor ?? null);
    return page;
  }, [id]);
  return (
    <div className="card">
      <div className="title-row">
        <h2>Members</h2>
        <a className="button" href={audiences.membersCsvUrl(id)} download>
          Export CSV
        </a>
      </div>
      <Async state={state} what="members" retry={retry}>
        {(page) => {
          const list = [...page.members, ...more];
          if (list.length === 0) return <Empty>No members.</Empty>;
          return (
            <>
              <table className="table" aria-label="Members">
                <thead>
                  <tr>
                    <th>Profile</th>
                    <th>Email</th>
                    <th>User id</th>
                    <th>Entered</th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((m) => (
                    <tr key={m.profile_id}>
                      <td>
                        <Link to={`/profiles/${encodeURIComponent(`profile_id:${m.profile_id}`)}`}>{m.profile_id}</Link>
                      </td>
                      <td>{formatValue(m.values?.email ?? undefined)}</td>
                      <td>{formatValue(m.values?.user_id ?? undefined)}</td>
                      <td>{formatTime(m.entered_at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {cursor && (
                <button
                  type="button"
                  onClick={async () => {
                    const next = await audiences.members(id, cursor);
                    setMore((m) => [...m, ...next.members]);
                    setCursor(next.next_cursor ?? null);
                  }}
                >
                  Load more
                </button>
              )}
            </>
          );
        }}
      </Async>
    </div>
  );
}
