// Suppressed addresses: every address that receives nothing on its channel, transactional
// messages included (a hard bounce, a complaint, a GDPR deletion, or someone here), with the
// reason; admins add and lift them. The channel filter is in the URL.
import { useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router';
import { preferences, type SuppressionRow } from '../api/preferences';
import { ConfirmButton } from '../components/Confirm';
import { Async, Empty } from '../components/States';
import { formatTime } from '../lib/format';
import { useAsync } from '../lib/useAsync';
import { useCanWrite } from '../session';

const CHANNELS = ['email', 'sms', 'push'];

export default function Suppressions() {
  const canWrite = useCanWrite();
  const [params, setParams] = useSearchParams();
  const channel = params.get('channel') ?? '';
  const [more, setMore] = useState<SuppressionRow[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [state, retry] = useAsync(async () => {
    const page = await preferences.suppressions(channel || undefined);
    setMore([]);
    setNext(page.next);
    return page.rows;
  }, [channel]);
  const add = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const target = e.currentTarget;
    try {
      await preferences.suppress(String(form.get('channel')), String(form.get('address')));
      setError(null);
      target.reset();
      retry();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const loadMore = async () => {
    if (!next) return;
    const page = await preferences.suppressions(channel || undefined, next);
    setMore((m) => [...m, ...page.rows]);
    setNext(page.next);
  };
  return (
    <section>
      <h1>Suppressed addresses</h1>
      <div className="filters">
        <label>
          Channel
          <select value={channel} onChange={(e) => setParams(e.target.value ? { channel: e.target.value } : {})}>
            <option value="">any</option>
            {CHANNELS.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </label>
      </div>
      {canWrite && (
        <form className="form-row" aria-label="Suppress an address" onSubmit={(e) => void add(e)}>
          <label>
            On
            <select name="channel" defaultValue="email">
              {CHANNELS.map((c) => (
                <option key={c}>{c}</option>
              ))}
            </select>
          </label>
          <label className="grow">
            Address
            <input name="address" required placeholder="ana@example.com" />
          </label>
          <button type="submit">Suppress</button>
          {error && (
            <p className="state error" role="alert">
              {error}
            </p>
          )}
        </form>
      )}
      <Async state={state} what="the suppressed addresses" retry={retry}>
        {(first) => {
          const rows = [...first, ...more];
          if (rows.length === 0) return <Empty>No address is suppressed.</Empty>;
          return (
            <>
              <table className="table" aria-label="Suppressed addresses">
                <thead>
                  <tr>
                    <th>Channel</th>
                    <th>Address</th>
                    <th>Why</th>
                    <th>Since</th>
                    {canWrite && <th />}
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => (
                    <tr key={`${r.channel}:${r.address}`} data-testid="suppression-row">
                      <td>{r.channel}</td>
                      <td>{r.address}</td>
                      <td>{r.reason}</td>
                      <td>{formatTime(r.createdAt)}</td>
                      {canWrite && (
                        <td>
                          <ConfirmButton
                            label="Lift…"
                            title={`Lift the suppression of ${r.address}?`}
                            confirmLabel="Lift"
                            onConfirm={async () => {
                              await preferences.lift(r.channel, r.address);
                              retry();
                            }}
                          >
                            Messages on {r.channel} may reach it again, within each person&apos;s subscriptions.
                          </ConfirmButton>
                        </td>
                      )}
                    </tr>
                  ))}
                </tbody>
              </table>
              {next && (
                <button type="button" onClick={() => void loadMore()}>
                  More
                </button>
              )}
            </>
          );
        }}
      </Async>
    </section>
  );
}
