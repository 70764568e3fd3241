// One broadcast: what it sends to whom and when, its progress (watched while it moves), and
// pause, resume and cancel.
import { useEffect, useState } from 'react';
import { Link, useParams } from 'react-router';
import { broadcasts, type Broadcast } from '../api/broadcasts';
import { Bars } from '../components/Bars';
import { ConfirmButton } from '../components/Confirm';
import { Async, Empty } from '../components/States';
import { inMotion } from '../lib/broadcast';
import { formatCount, formatTime } from '../lib/format';
import { useAsync } from '../lib/useAsync';
import { useCanWrite } from '../session';

const WATCH_MS = 1000;

export default function BroadcastPage() {
  const { id = '' } = useParams();
  const canWrite = useCanWrite();
  const [state, retry] = useAsync(() => broadcasts.get(id), [id]);
  const [acted, setActed] = useState<Broadcast | null>(null);
  const [error, setError] = useState<string | null>(null);
  const current = acted ?? (state.status === 'done' ? state.data : null);

  useEffect(() => {
    if (!current || !inMotion(current)) return;
    const timer = setTimeout(() => {
      setActed(null);
      retry();
    }, WATCH_MS);
    return () => clearTimeout(timer);
  }, [current, retry]);

  const act = async (what: 'pause' | 'resume' | 'cancel') => {
    setError(null);
    try {
      setActed(await broadcasts[what](id));
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <Async state={state} what="the broadcast" retry={retry}>
      {(loaded) => {
        const b = acted ?? loaded;
        if (!b) return <Empty>No broadcast has the id {id}.</Empty>;
        const p = b.progress;
        // A finished broadcast can still be stopped while some of its messages wait.
        const stoppable = inMotion(b);
        return (
          <section>
            <div className="title-row">
              <h1>{b.name}</h1>
              <span className="help" data-testid="broadcast-status">
                {b.status}
              </span>
            </div>
            <dl className="facts">
              <dt>Audience</dt>
              <dd>
                <Link to={`/audiences/${encodeURIComponent(b.audienceId)}`}>{b.audienceId}</Link>
              </dd>
              <dt>Template</dt>
              <dd>
                <Link to={`/templates/${encodeURIComponent(b.templateId)}`}>{b.templateId}</Link> v{b.templateVersion}
              </dd>
              <dt>When</dt>
              <dd>{b.localTime ? `${b.localTime} on each person's clock (else ${b.timeZone})` : formatTime(b.sendAt)}</dd>
              <dt>Holdout</dt>
              <dd>{b.holdoutPercent}%</dd>
              {b.topic && (
                <>
                  <dt>Topic</dt>
                  <dd>{b.topic}</dd>
                </>
              )}
            </dl>
            {p && (
              <div className="grid2">
                <div className="card">
                  <h2>Progress</h2>
                  <p data-testid="broadcast-enqueued">
                    {formatCount(p.enqueued)} of {formatCount(p.audienceSize)} members enqueued
                  </p>
                  <Bars label="Messages by status" rows={p.statuses.map((s) => [s.name, s.count])} />
                </div>
                <div className="card">
                  <h2>Skipped and failed</h2>
                  {p.skipped.length + p.failed.length === 0 ? (
                    <Empty>Nothing skipped or failed.</Empty>
                  ) : (
                    <Bars
                      label="Skipped and failed by reason"
                      rows={[...p.skipped.map((s) => [`skipped: ${s.name}`, s.count] as [string, number]), ...p.failed.map((s) => [`failed: ${s.name}`, s.count] as [string, number])]}
                    />
                  )}
                </div>
              </div>
            )}
            {error && (
              <p className="state error" role="alert">
                {error}
              </p>
            )}
            {canWrite && (stoppable || b.status === 'paused') && (
              <div className="actions">
                {b.status === 'paused' ? (
                  <button type="button" onClick={() => void act('resume')}>
                    Resume
                  </button>
                ) : (
                  <button type="button" onClick={() => void act('pause')}>
                    Pause
                  </button>
                )}
                <ConfirmButton label="Cancel…" title={`Cancel ${b.name}?`} confirmLabel="Cancel broadcast" danger onConfirm={() => act('cancel')}>
                  Messages not handed over yet are skipped. This cannot be undone.
                </ConfirmButton>
              </div>
            )}
          </section>
        );
      }}
    </Async>
  );
}
