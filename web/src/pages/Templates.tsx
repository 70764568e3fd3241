// Message templates: every template with its channel and current version.
import { Link } from 'react-router';
import { templates } from '../api/templates';
import { Async, Empty } from '../components/States';
import { formatTime } from '../lib/format';
import { useAsync } from '../lib/useAsync';
import { useCanWrite } from '../session';

export default function Templates() {
  const canWrite = useCanWrite();
  const [state, retry] = useAsync(() => templates.list(), []);
  return (
    <section>
      <div className="title-row">
        <h1>Templates</h1>
        {canWrite && (
          <Link className="button primary" to="/templates/new">
            New template
          </Link>
        )}
      </div>
      <Async state={state} what="the templates" retry={retry}>
        {(list) =>
          list.length === 0 ? (
            <Empty>No template yet.</Empty>
          ) : (
            <table className="table" aria-label="Templates">
              <thead>
                <tr>
                  <th>Template</th>
                  <th>Channel</th>
                  <th className="num">Version</th>
                  <th>Saved</th>
                </tr>
              </thead>
              <tbody>
                {list.map((t) => (
                  <tr key={t.id}>
                    <td>
                      <Link to={`/templates/${encodeURIComponent(t.id)}`}>{t.name}</Link> <span className="help">{t.id}</span>
                    </td>
                    <td>{t.channel}</td>
                    <td className="num">{t.version}</td>
                    <td>{formatTime(t.updatedAt)}</td>
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
