// The messaging settings (docs/messaging-settings.md): each channel's provider (JSON, credentials
// masked by the server and kept when sent back masked), the subscription topics, the send
// governor's policy and tracking. Changed section by section with the version that was read;
// read-only for viewers and when the settings come from the --channels file.
import { useState, type ReactNode } from 'react';
import { messages, type MessagingSettings } from '../api/messages';
import { ConfirmButton } from '../components/Confirm';
import { Async, Empty, ErrorBox } from '../components/States';
import {
  CHANNELS,
  PROVIDER_CHANNELS,
  PROVIDER_SKELETONS,
  newCap,
  newTopic,
  parseProvider,
  policyFromJson,
  policyToJson,
  topicsFromJson,
  topicsToJson,
  type PolicyForm,
  type TopicForm,
} from '../lib/messagingSettings';
import { useAsync } from '../lib/useAsync';
import { useCanWrite } from '../session';

type Save = (change: Record<string, unknown>) => Promise<void>;

export default function MessagingSettingsPage() {
  const [state, retry] = useAsync(() => messages.settings(), []);
  return (
    <section>
      <h1>Messaging</h1>
      <Async state={state} what="the messaging settings" retry={retry}>
        {(loaded) => <Editor loaded={loaded} />}
      </Async>
    </section>
  );
}

function Editor({ loaded }: { loaded: MessagingSettings }) {
  const canWrite = useCanWrite();
  const [settings, setSettings] = useState(loaded);
  const editable = canWrite && settings.origin === 'api';
  const save: Save = async (change) => {
    setSettings(await messages.updateSettings({ ...change, version: settings.version }));
  };
  return (
    <>
      <p className="help" data-testid="settings-origin">
        {settings.origin === 'file' ? (
          <>
            Read from the channels file (<code>herald serve --channels</code>): change the file and restart.
          </>
        ) : (
          <>Stored settings, version {settings.version}. Credentials are never shown; a masked one that is sent back is kept.</>
        )}
        {!canWrite && ' Only admins change them.'}
      </p>
      <Channels settings={settings} editable={editable} save={save} />
      <Topics key={`t${settings.version}`} settings={settings} editable={editable} save={save} />
      <Policy key={`p${settings.version}`} settings={settings} editable={editable} save={save} />
      <Tracking key={`k${settings.version}`} settings={settings} editable={editable} save={save} />
    </>
  );
}

/** A card whose Save runs `run`, showing its error inline. */
function Card(props: { title: string; editable: boolean; saveLabel?: string; run?: () => Promise<void>; children: ReactNode }) {
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    if (!props.run) return;
    setBusy(true);
    setError(null);
    try {
      await props.run();
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="card">
      <h2>{props.title}</h2>
      {props.children}
      {error && <ErrorBox error={error} />}
      {props.editable && props.run && (
        <button type="button" className="primary" disabled={busy} onClick={submit}>
          {props.saveLabel ?? 'Save'}
        </button>
      )}
    </div>
  );
}

function Channels({ settings, editable, save }: { settings: MessagingSettings; editable: boolean; save: Save }) {
  const configured = (settings.channels ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const [editing, setEditing] = useState<{ channel: string; text: string } | null>(null);
  const start = (channel: string, value: Record<string, unknown>) => {
    setEditing({ channel, text: JSON.stringify(value, null, 2) });
  };
  const run = async () => {
    if (!editing) return;
    const parsed = parseProvider(editing.text);
    if ('error' in parsed) throw new Error(parsed.error);
    await save({ [editing.channel]: parsed.value });
    setEditing(null);
  };
  return (
    <Card title="Channels" editable={editable && editing !== null} saveLabel="Save provider" run={run}>
      <table className="table" aria-label="Channels">
        <thead>
          <tr>
            <th>Channel</th>
            <th>Provider</th>
            <th>Settings</th>
            {editable && <th>Change</th>}
          </tr>
        </thead>
        <tbody>
          {PROVIDER_CHANNELS.map((channel) => {
            const c = configured[channel];
            const skeletons = PROVIDER_SKELETONS[channel] ?? {};
            // Push has one provider per platform (`fcm`, `apns`); a webhook is its own provider.
            const provider = !c ? null : typeof c.provider === 'string' ? c.provider : channel === 'push' ? Object.keys(c).join(' + ') : channel;
            return (
              <tr key={channel}>
                <td>{channel}</td>
                <td>{provider ?? '—'}</td>
                <td>{c ? <pre data-testid={`channel-${channel}`}>{JSON.stringify(c, null, 2)}</pre> : <Empty>No provider: its messages fail with channel_not_configured.</Empty>}</td>
                {editable && (
                  <td>
                    {c ? (
                      <>
                        <button type="button" onClick={() => start(channel, c)}>
                          Edit {channel}
                        </button>
                        <ConfirmButton
                          label={`Remove ${channel}`}
                          title={`Remove the ${channel} provider?`}
                          confirmLabel="Remove"
                          danger
                          onConfirm={() => save({ [channel]: null })}
                        >
                          Messages on {channel} will fail with channel_not_configured until a provider is set up again.
                        </ConfirmButton>
                      </>
                    ) : (
                      <label>
                        Set up {channel} with{' '}
                        <select
                          aria-label={`Provider for ${channel}`}
                          value=""
                          onChange={(e) => {
                            const skeleton = skeletons[e.target.value];
                            if (skeleton) start(channel, skeleton);
                          }}
                        >
                          <option value="">a provider…</option>
                          {Object.keys(skeletons).map((p) => (
                            <option key={p} value={p}>
                              {p}
                            </option>
                          ))}
                        </select>
                      </label>
                    )}
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
      {editing && (
        <>
          <label>
            <span>{editing.channel} provider settings (JSON; docs/channels.md)</span>
            <textarea
              rows={12}
              spellCheck={false}
              value={editing.text}
              onChange={(e) => setEditing({ ...editing, text: e.target.value })}
            />
          </label>
          <button type="button" onClick={() => setEditing(null)}>
            Cancel
          </button>
        </>
      )}
    </Card>
  );
}

function Topics({ settings, editable, save }: { settings: MessagingSettings; editable: boolean; save: Save }) {
  const [rows, setRows] = useState<TopicForm[]>(() => topicsFromJson(settings.topics));
  const set = (i: number, change: Partial<TopicForm>) => setRows(rows.map((r, j) => (j === i ? { ...r, ...change } : r)));
  return (
    <Card title="Topics" editable={editable} saveLabel="Save topics" run={() => save({ topics: topicsToJson(rows) })}>
      {rows.length === 0 && <Empty>No subscription topic.</Empty>}
      {rows.length > 0 && (
        <table className="table" aria-label="Topics">
          <thead>
            <tr>
              <th>Key</th>
              <th>Channel</th>
              <th>Default</th>
              <th>Description</th>
              <th>Double opt-in</th>
              <th>Confirmation template</th>
              {editable && <th />}
            </tr>
          </thead>
          <tbody>
            {rows.map((t, i) => (
              <tr key={i} data-testid="topic-row">
                <td>
                  <input aria-label={`Topic ${i + 1} key`} value={t.key} disabled={!editable} onChange={(e) => set(i, { key: e.target.value })} />
                </td>
                <td>
                  <select aria-label={`Topic ${i + 1} channel`} value={t.channel} disabled={!editable} onChange={(e) => set(i, { channel: e.target.value })}>
                    {CHANNELS.map((c) => (
                      <option key={c}>{c}</option>
                    ))}
                  </select>
                </td>
                <td>
                  <select
                    aria-label={`Topic ${i + 1} default`}
                    value={t.default}
                    disabled={!editable}
                    onChange={(e) => set(i, { default: e.target.value as TopicForm['default'] })}
                  >
                    <option value="opt_out">opt_out (subscribed until they leave)</option>
                    <option value="opt_in">opt_in (not until they join)</option>
                  </select>
                </td>
                <td>
                  <input aria-label={`Topic ${i + 1} description`} value={t.description} disabled={!editable} onChange={(e) => set(i, { description: e.target.value })} />
                </td>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Topic ${i + 1} double opt-in`}
                    checked={t.doubleOptIn}
                    disabled={!editable}
                    onChange={(e) => set(i, { doubleOptIn: e.target.checked })}
                  />
                </td>
                <td>
                  <input
                    aria-label={`Topic ${i + 1} confirmation template`}
                    value={t.confirmationTemplate}
                    disabled={!editable}
                    onChange={(e) => set(i, { confirmationTemplate: e.target.value })}
                  />
                </td>
                {editable && (
                  <td>
                    <button type="button" aria-label={`Remove topic ${i + 1}`} onClick={() => setRows(rows.filter((_, j) => j !== i))}>
                      Remove
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {editable && (
        <button type="button" onClick={() => setRows([...rows, newTopic()])}>
          Add topic
        </button>
      )}
    </Card>
  );
}

function Policy({ settings, editable, save }: { settings: MessagingSettings; editable: boolean; save: Save }) {
  const [form, setForm] = useState<PolicyForm>(() => policyFromJson(settings.policy));
  const setCap = (i: number, change: Partial<PolicyForm['caps'][number]>) =>
    setForm({ ...form, caps: form.caps.map((c, j) => (j === i ? { ...c, ...change } : c)) });
  const run = async () => {
    const made = policyToJson(form);
    if ('error' in made) throw new Error(made.error);
    await save({ policy: made.policy });
  };
  return (
    <Card title="Send governor policy" editable={editable} saveLabel="Save policy" run={run}>
      <pre data-testid="governor-policy" hidden>
        {JSON.stringify(settings.policy)}
      </pre>
      <div className="stack">
      <label>
        <span>Time zone of people without one (IANA)</span>
        <input value={form.timezone} disabled={!editable} onChange={(e) => setForm({ ...form, timezone: e.target.value })} />
      </label>
      <label>
        <span>A message over a cap is</span>
        <select value={form.onCapped} disabled={!editable} onChange={(e) => setForm({ ...form, onCapped: e.target.value as PolicyForm['onCapped'] })}>
          <option value="drop">dropped (skipped: capped)</option>
          <option value="defer">deferred until it fits</option>
        </select>
      </label>
      </div>
      <h3>Frequency caps</h3>
      {form.caps.length === 0 && <Empty>No cap: every message that may go, goes.</Empty>}
      {form.caps.map((c, i) => (
        <fieldset key={i} className="condition" data-testid="cap-row">
          <legend>Cap {i + 1}</legend>
          <label>
            At most <input aria-label={`Cap ${i + 1} maximum`} size={4} value={c.max} disabled={!editable} onChange={(e) => setCap(i, { max: e.target.value })} />
          </label>
          <label>
            category{' '}
            <input aria-label={`Cap ${i + 1} category`} placeholder="any" value={c.category} disabled={!editable} onChange={(e) => setCap(i, { category: e.target.value })} />
          </label>
          <label>
            on{' '}
            <select aria-label={`Cap ${i + 1} channel`} value={c.channel} disabled={!editable} onChange={(e) => setCap(i, { channel: e.target.value })}>
              <option value="">any channel</option>
              {CHANNELS.map((ch) => (
                <option key={ch}>{ch}</option>
              ))}
            </select>
          </label>
          <label>
            per <input aria-label={`Cap ${i + 1} window`} size={5} value={c.window} disabled={!editable} onChange={(e) => setCap(i, { window: e.target.value })} />
          </label>
          {editable && (
            <button type="button" onClick={() => setForm({ ...form, caps: form.caps.filter((_, j) => j !== i) })}>
              Remove cap {i + 1}
            </button>
          )}
        </fieldset>
      ))}
      {editable && (
        <button type="button" onClick={() => setForm({ ...form, caps: [...form.caps, newCap()] })}>
          Add cap
        </button>
      )}
      <h3>Quiet hours</h3>
      <label className="inline">
        <input
          type="checkbox"
          checked={form.quiet.enabled}
          disabled={!editable}
          onChange={(e) => setForm({ ...form, quiet: { ...form.quiet, enabled: e.target.checked } })}
        />{' '}
        Quiet hours in each person's time zone
      </label>
      {form.quiet.enabled && (
        <fieldset className="condition">
          <legend>Quiet hours</legend>
          <label>
            from <input type="time" aria-label="Quiet from" value={form.quiet.start} disabled={!editable} onChange={(e) => setForm({ ...form, quiet: { ...form.quiet, start: e.target.value } })} />
          </label>
          <label>
            to <input type="time" aria-label="Quiet to" value={form.quiet.end} disabled={!editable} onChange={(e) => setForm({ ...form, quiet: { ...form.quiet, end: e.target.value } })} />
          </label>
          <label>
            messages are{' '}
            <select
              aria-label="Quiet action"
              value={form.quiet.action}
              disabled={!editable}
              onChange={(e) => setForm({ ...form, quiet: { ...form.quiet, action: e.target.value as 'defer' | 'drop' } })}
            >
              <option value="defer">deferred to the end</option>
              <option value="drop">dropped</option>
            </select>
          </label>
        </fieldset>
      )}
    </Card>
  );
}

function Tracking({ settings, editable, save }: { settings: MessagingSettings; editable: boolean; save: Save }) {
  const shown = (settings.tracking ?? {}) as { opens?: boolean; clicks?: boolean };
  const [opens, setOpens] = useState(shown.opens !== false);
  const [clicks, setClicks] = useState(shown.clicks !== false);
  return (
    <Card title="Tracking" editable={editable} saveLabel="Save tracking" run={() => save({ tracking: { opens, clicks } })}>
      <label className="inline">
        <input type="checkbox" checked={opens} disabled={!editable} onChange={(e) => setOpens(e.target.checked)} /> Track opens (a pixel in HTML emails)
      </label>
      <label className="inline">
        <input type="checkbox" checked={clicks} disabled={!editable} onChange={(e) => setClicks(e.target.checked)} /> Track clicks (links through signed redirects)
      </label>
    </Card>
  );
}
