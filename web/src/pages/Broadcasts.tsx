// Broadcasts: every one, newest first, with its status.
import { Link } from 'react-router';
import { broadcasts } from '../api/broadcasts';
import { Async, Empty } from '../components/States';
import { formatTime } from '../lib/format';
import { useAsync } from '../lib/useAsync';
import { useCanWrite } from '../session';

export default function Broadcasts() {
  const canWrite = useCanWrite();
  const [state, retry] = useAsync(() => broadcasts.list(), []);
  return (
    <section>
      <div className="title-row">
        <h1>Broadcasts</h1>
        {canWrite && (
          <Link className="button primary" to="/broadcasts/new">
            New broadcast
          </Link>
        )}
      </div>
      <Async state={state} what="the broadcasts" retry={retry}>
        {(list) =>
          list.length === 0 ? (
            <Empty>No broadcast yet.</Empty>
          ) : (
            <table className="table" aria-label="Broadcasts">
              <thead>
                <tr>
                  <th>Broadcast</th>
                  <th>Audience</th>
                  <th>Template</th>
                  <th>Status</th>
                  <th>Starts</th>
                </tr>
              </thead>
              <tbody>
                {list.map((b) => (
                  <tr key={b.id}>
                    <td>
                      <Link to={`/broadcasts/${b.id}`}>{b.name}</Link>
                    </td>
                    <td>{b.audienceId}</td>
                    <td>
                      {b.templateId} <span className="help">v{b.templateVersion}</span>
                    </td>
                    <td>{b.status}</td>
                    <td>{b.localTime ? `${b.localTime} local` : formatTime(b.startsAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Async>
    </section>
  );
}
