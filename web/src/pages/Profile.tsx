// One profile: traits, computed traits, groups, audiences with reasons, membership history,
// identity graph (with merge undo), messages, timeline; GDPR delete.
import { lazy, Suspense } from 'react';
import { useNavigate, useParams } from 'react-router';
import { profiles } from '../api/herald';
import type { JsonObject } from '../api/types';
import { ConfirmButton } from '../components/Confirm';
import { Async, Empty, Loading } from '../components/States';
import { displayName, formatAgo, formatTime, formatValue } from '../lib/format';
import { useAsync } from '../lib/useAsync';
import { useCanWrite } from '../session';
import { ProfileMessages } from './ProfileMessages';
import { ProfileSubscriptions } from './ProfileSubscriptions';
import { Timeline } from './Timeline';

const IdentityGraph = lazy(() => import('./IdentityGraph'));

export default function Profile() {
  const id = useParams().id ?? '';
  const navigate = useNavigate();
  const canWrite = useCanWrite();
  const [state, retry] = useAsync(() => profiles.get(id), [id]);
  return (
    <Async state={state} what="the profile" retry={retry}>
      {(p) => {
        const key = `profile_id:${p.profile_id}`;
        return (
          <section>
            <div className="title-row">
              <h1>{displayName(p.identities, p.profile_id)}</h1>
              <ConfirmButton
                label="Delete (GDPR)…"
                title="Delete this person everywhere?"
                confirmLabel="Delete for good"
                danger
                disabled={!canWrite}
                onConfirm={async () => {
                  await profiles.remove(key);
                  navigate('/profiles');
                }}
              >
                Their profile, events, identifiers and membership history are erased and their identifiers suppressed. This cannot be undone.
              </ConfirmButton>
            </div>
            <p className="help">
              {p.profile_id} · first seen {formatTime(p.first_seen)} · last seen {formatAgo(p.last_seen, Date.now())} · {p.total_events} events
              {p.timezone ? ` · ${p.timezone}` : ''}
            </p>
            <div className="grid2">
              <div className="card">
                <h2>Traits</h2>
                <KeyValues values={p.traits} empty="No traits." />
              </div>
              <div className="card">
                <h2>Computed traits</h2>
                <KeyValues values={p.computed_traits} empty="No computed trait has a value." />
              </div>
              <div className="card">
                <h2>Groups</h2>
                {p.groups.length === 0 ? (
                  <Empty>Not in any group.</Empty>
                ) : (
                  p.groups.map((g) => (
                    <div key={g.group_id}>
                      <h3>{g.group_id}</h3>
                      <KeyValues values={g.traits} empty="No group traits." />
                    </div>
                  ))
                )}
              </div>
              <Audiences id={key} />
            </div>
            <div className="card">
              <h2>Identity graph</h2>
              <Suspense fallback={<Loading what="the identity graph" />}>
                <IdentityGraph id={key} canWrite={canWrite} onChange={retry} />
              </Suspense>
            </div>
            <div className="card">
              <h2>Subscriptions</h2>
              <ProfileSubscriptions id={key} />
            </div>
            <div className="card">
              <h2>Messages</h2>
              <ProfileMessages id={key} />
            </div>
            <div className="card">
              <h2>Timeline</h2>
              <Timeline id={key} />
            </div>
          </section>
        );
      }}
    </Async>
  );
}

function KeyValues({ values, empty }: { values: JsonObject; empty: string }) {
  const entries = Object.entries(values);
  if (entries.length === 0) return <Empty>{empty}</Empty>;
  return (
    <dl className="kv">
      {entries.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{formatValue(v)}</dd>
        </div>
      ))}
    </dl>
  );
}

function Audiences({ id }: { id: string }) {
  const [memberships, retry] = useAsync(() => Promise.all([profiles.audiences(id), profiles.audienceHistory(id)]), [id]);
  return (
    <div className="card">
      <h2>Audiences</h2>
      <Async state={memberships} what="audiences" retry={retry}>
        {([current, history]) => (
          <>
            {current.audiences.length === 0 ? (
              <Empty>No audiences defined.</Empty>
            ) : (
              <ul className="memberships">
                {current.audiences.map((m) => (
                  <li key={m.audience_id}>
                    <details>
                      <summary>
                        <span className={m.member ? 'badge live' : 'badge'}>{m.member ? 'member' : 'not a member'}</span> {m.audience_id}
                      </summary>
                      <pre>{JSON.stringify(m.reason, null, 2)}</pre>
                    </details>
                  </li>
                ))}
              </ul>
            )}
            <h3>Membership history</h3>
            {history.length === 0 ? (
              <Empty>No membership changes.</Empty>
            ) : (
              <ul className="history">
                {history.map((h, i) => (
                  <li key={i}>
                    {formatTime(h.at)} · <strong>{h.change}</strong> {h.audience_id} <span className="help">({formatValue(h.cause)})</span>
                  </li>
                ))}
              </ul>
            )}
          </>
        )}
      </Async>
    </div>
  );
}
