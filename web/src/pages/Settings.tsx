// Keys (write and admin: create, revoke), dashboard users, and, read-only, the identity rules;
// the messaging settings have their own page (MessagingSettings.tsx).
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { keys, ops, users } from '../api/herald';
import type { CreatedKey } from '../api/types';
import { ConfirmButton } from '../components/Confirm';
import { Async, Empty, ErrorBox } from '../components/States';
import { formatTime } from '../lib/format';
import { useAsync } from '../lib/useAsync';
import { useCanWrite, useSession } from '../session';

export default function Settings() {
  // Keys and users are the admin role's (the API refuses a viewer even their lists).
  const canWrite = useCanWrite();
  return (
    <section>
      <h1>Settings</h1>
      {canWrite ? (
        <>
          <Keys />
          <Users />
        </>
      ) : (
        <p className="state notice" role="status" data-testid="admin-only">
          API keys and dashboard users are managed by admins.
        </p>
      )}
      <IdentityRules />
      <div className="card">
        <h2>Messaging</h2>
        <p className="help">
          Channels and their providers, subscription topics, the send governor's policy and tracking are on the <Link to="/messaging">Messaging</Link> page.
        </p>
      </div>
    </section>
  );
}

function Keys() {
  const canWrite = useCanWrite();
  const [state, retry] = useAsync(() => keys.list(), []);
  const [created, setCreated] = useState<CreatedKey | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const create = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    try {
      setCreated(await keys.create(form.get('kind') === 'admin' ? 'admin' : 'write', String(form.get('name'))));
      setError(null);
      retry();
    } catch (err) {
      setError(err as Error);
    }
  };
  return (
    <div className="card">
      <h2>API keys</h2>
      {canWrite && (
        <form className="filters" onSubmit={create}>
          <label>
            Kind
            <select name="kind">
              <option value="write">write (ingest)</option>
              <option value="admin">admin</option>
            </select>
          </label>
          <label>
            Name
            <input name="name" required placeholder="web site" />
          </label>
          <button type="submit" className="primary">
            Create key
          </button>
        </form>
      )}
      {error && <ErrorBox error={error} />}
      {created && (
        <p className="state notice" role="status">
          New {created.kind} key <strong>{created.name}</strong>: <code>{created.secret}</code> — copy it now, it is not shown again.
        </p>
      )}
      <Async state={state} what="keys" retry={retry}>
        {(list) =>
          list.length === 0 ? (
            <Empty>No keys.</Empty>
          ) : (
            <table className="table">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Kind</th>
                  <th>Prefix</th>
                  <th>Created</th>
                  <th>Revoked</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {list.map((k) => (
                  <tr key={k.id}>
                    <td>{k.name}</td>
                    <td>{k.kind}</td>
                    <td>
                      <code>{k.prefix}…</code>
                    </td>
                    <td>{formatTime(k.created_at)}</td>
                    <td>{k.revoked_at ? formatTime(k.revoked_at) : '–'}</td>
                    <td>
                      {!k.revoked_at && canWrite && (
                        <ConfirmButton label="Revoke…" title={`Revoke ${k.name}?`} confirmLabel="Revoke" danger onConfirm={async () => { await keys.revoke(k.id); retry(); }}>
                          Requests with this key are refused from now on.
                        </ConfirmButton>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Async>
    </div>
  );
}

function Users() {
  const canWrite = useCanWrite();
  const me = useSession().current?.user.id;
  const [state, retry] = useAsync(() => users.list(), []);
  const [error, setError] = useState<Error | null>(null);
  const create = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const el = e.currentTarget;
    const form = new FormData(el);
    try {
      await users.create(String(form.get('email')), String(form.get('password')), String(form.get('role')));
      el.reset();
      setError(null);
      retry();
    } catch (err) {
      setError(err as Error);
    }
  };
  return (
    <div className="card">
      <h2>Dashboard users</h2>
      {canWrite && (
        <form className="filters" onSubmit={create}>
          <label>
            Email
            <input name="email" type="email" required />
          </label>
          <label>
            Password
            <input name="password" type="password" required minLength={10} autoComplete="new-password" />
          </label>
          <label>
            Role
            <select name="role">
              <option value="viewer">viewer (reads only)</option>
              <option value="admin">admin</option>
            </select>
          </label>
          <button type="submit" className="primary">
            Add user
          </button>
        </form>
      )}
      {error && <ErrorBox error={error} />}
      <Async state={state} what="users" retry={retry}>
        {(list) => (
          <table className="table">
            <thead>
              <tr>
                <th>Email</th>
                <th>Role</th>
                <th>Created</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.map((u) => (
                <tr key={u.id}>
                  <td>{u.email}</td>
                  <td>{u.role}</td>
                  <td>{formatTime(u.createdAt)}</td>
                  <td>
                    {canWrite && u.id !== me && (
                      <ConfirmButton label="Remove…" title={`Remove ${u.email}?`} confirmLabel="Remove" danger onConfirm={async () => { await users.remove(u.id); retry(); }}>
                        They are signed out and can no longer sign in.
                      </ConfirmButton>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Async>
    </div>
  );
}

function IdentityRules() {
  const [state, retry] = useAsync(() => ops.identityRules(), []);
  return (
    <div className="card">
      <h2>Identity rules</h2>
      <p className="help">Read-only here; set with <code>herald serve --identity-rules</code> (docs/identity.md).</p>
      <Async state={state} what="the identity rules" retry={retry}>
        {(rules) => <pre data-testid="identity-rules">{JSON.stringify(rules, null, 2)}</pre>}
      </Async>
    </div>
  );
}
