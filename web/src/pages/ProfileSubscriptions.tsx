// A person's subscriptions, per channel: those of the address their messages go to, each
// topic's status (chosen or the default), the channel-wide unsubscribe and a suppression;
// admins subscribe and unsubscribe (a double opt-in topic becomes pending and its
// confirmation message is sent).
import { useState } from 'react';
import { preferences, type ChannelRow } from '../api/preferences';
import { Async, Empty } from '../components/States';
import { useAsync } from '../lib/useAsync';
import { useCanWrite } from '../session';

export function ProfileSubscriptions({ id }: { id: string }) {
  const canWrite = useCanWrite();
  const [changed, setChanged] = useState<ChannelRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [state, retry] = useAsync(async () => {
    setChanged(null);
    return preferences.ofProfile(id);
  }, [id]);
  const change = async (rows: ChannelRow[], channel: string, key: string, subscribe: boolean) => {
    try {
      const row = await preferences.change(id, channel, subscribe ? { subscribe: [key] } : { unsubscribe: [key] });
      setChanged(rows.map((r) => (r.channel === channel ? row : r)));
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <Async state={state} what="the subscriptions" retry={retry}>
      {(loaded) => {
        const rows = changed ?? loaded;
        if (rows.length === 0) return <Empty>No address to send to: no email, phone or device token in the traits.</Empty>;
        return (
          <>
            {error && (
              <p className="state error" role="alert">
                {error}
              </p>
            )}
            <table className="table" aria-label="Subscriptions">
              <thead>
                <tr>
                  <th>Channel</th>
                  <th>Address</th>
                  <th>Topic</th>
                  <th>Status</th>
                  {canWrite && <th />}
                </tr>
              </thead>
              <tbody>
                {rows.flatMap((r) => {
                  const note = r.suppressed ? `suppressed (${r.suppressed})` : r.unsubscribed ? 'unsubscribed from everything' : '';
                  if (r.topics.length === 0) {
                    return [
                      <tr key={r.channel}>
                        <td>{r.channel}</td>
                        <td>{r.address}</td>
                        <td>—</td>
                        <td>{note || 'no topic'}</td>
                        {canWrite && <td />}
                      </tr>,
                    ];
                  }
                  return r.topics.map((t) => (
                    <tr key={`${r.channel}:${t.key}`} data-testid="subscription-row">
                      <td>{r.channel}</td>
                      <td>{r.address}</td>
                      <td>{t.key}</td>
                      <td>
                        <span className="badge">{t.status}</span>
                        {t.chosen ? '' : ' (default)'}
                        {note ? ` · ${note}` : ''}
                      </td>
                      {canWrite && (
                        <td>
                          <button type="button" onClick={() => void change(rows, r.channel, t.key, t.status === 'unsubscribed')}>
                            {t.status === 'unsubscribed' ? 'Subscribe' : 'Unsubscribe'}
                          </button>
                        </td>
                      )}
                    </tr>
                  ));
                })}
              </tbody>
            </table>
          </>
        );
      }}
    </Async>
  );
}
