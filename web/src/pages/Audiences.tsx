import { Link } from 'react-router';
import { audiences } from '../api/herald';
import { Async, Empty } from '../components/States';
import { formatCount, formatTime } from '../lib/format';
import { useAsync } from '../lib/useAsync';
import { useCanWrite } from '../session';

export default function Audiences() {
  const [state, retry] = useAsync(() => audiences.list(), []);
  const canWrite = useCanWrite();
  return (
    <section>
      <div className="title-row">
        <h1>Audiences</h1>
        {canWrite && (
          <Link className="button primary" to="/audiences/new">
            New audience
          </Link>
        )}
      </div>
      <Async state={state} what="audiences" retry={retry}>
        {(list) =>
          list.length === 0 ? (
            <Empty>No audiences yet.{canWrite && <> <Link to="/audiences/new">Build the first one</Link>.</>}</Empty>
          ) : (
            <table className="table">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Rule</th>
                  <th className="num">Size</th>
                  <th>Updated</th>
                </tr>
              </thead>
              <tbody>
                {list.map((a) => (
                  <tr key={a.id}>
                    <td>
                      <Link to={`/audiences/${encodeURIComponent(a.id)}`}>{a.name}</Link>
                      {!a.ready && <span className="badge">backfilling</span>}
                    </td>
                    <td>
                      <code className="rule-inline">{a.rule_text}</code>
                    </td>
                    <td className="num">{formatCount(a.size)}</td>
                    <td>{formatTime(a.updated_at)}</td>
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
