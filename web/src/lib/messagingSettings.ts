// The messaging settings' forms (docs/messaging-settings.md): topics and the governor's policy
// as rows of inputs, and back to the JSON sections the API takes; a provider's skeleton per
// channel to start a new one from.

export const CHANNELS = ['email', 'sms', 'push', 'webhook', 'in_app'] as const;
/** The channels that have a provider (in-app messages go to the inbox). */
export const PROVIDER_CHANNELS = ['email', 'sms', 'push', 'webhook'] as const;

export interface TopicForm {
  key: string;
  channel: string;
  default: 'opt_in' | 'opt_out';
  description: string;
  doubleOptIn: boolean;
  confirmationTemplate: string;
}

export interface CapForm {
  /** '' counts every channel. */
  channel: string;
  /** '' counts every category. */
  category: string;
  max: string;
  window: string;
}

export interface PolicyForm {
  timezone: string;
  onCapped: 'drop' | 'defer';
  caps: CapForm[];
  quiet: { enabled: boolean; start: string; end: string; action: 'defer' | 'drop'; channels: string[] };
}

type Json = Record<string, unknown>;
const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : fallback);

export const newTopic = (): TopicForm => ({
  key: '',
  channel: 'email',
  default: 'opt_out',
  description: '',
  doubleOptIn: false,
  confirmationTemplate: '',
});

export function topicsFromJson(topics: unknown): TopicForm[] {
  return (Array.isArray(topics) ? (topics as Json[]) : []).map((t) => ({
    key: str(t.key),
    channel: str(t.channel, 'email'),
    default: t.default === 'opt_in' ? 'opt_in' : 'opt_out',
    description: str(t.description),
    doubleOptIn: t.double_opt_in === true,
    confirmationTemplate: str(t.confirmation_template),
  }));
}

/** The `topics` section: fields left at their defaults are left out. */
export function topicsToJson(forms: TopicForm[]): Json[] {
  return forms.map((f) => {
    const t: Json = { key: f.key.trim(), channel: f.channel, default: f.default };
    if (f.description.trim()) t.description = f.description.trim();
    if (f.doubleOptIn) t.double_opt_in = true;
    if (f.confirmationTemplate.trim()) t.confirmation_template = f.confirmationTemplate.trim();
    return t;
  });
}

export const newCap = (): CapForm => ({ channel: '', category: 'marketing', max: '2', window: '1d' });

export function policyFromJson(policy: unknown): PolicyForm {
  const p = (policy && typeof policy === 'object' ? policy : {}) as Json;
  const caps = (Array.isArray(p.caps) ? (p.caps as Json[]) : []).map((c) => ({
    channel: str(c.channel),
    category: str(c.category),
    max: String(c.max ?? ''),
    window: str(c.window),
  }));
  const q = (p.quiet_hours && typeof p.quiet_hours === 'object' ? p.quiet_hours : null) as Json | null;
  return {
    timezone: str(p.timezone, 'UTC'),
    onCapped: p.on_capped === 'defer' ? 'defer' : 'drop',
    caps,
    quiet: {
      enabled: q !== null,
      start: str(q?.start, '21:00'),
      end: str(q?.end, '08:00'),
      action: q?.action === 'drop' ? 'drop' : 'defer',
      channels: Array.isArray(q?.channels) ? (q.channels as string[]) : [],
    },
  };
}

/** The `policy` section, or what is wrong with the form (the server checks the rest). */
export function policyToJson(form: PolicyForm): { policy: Json } | { error: string } {
  const caps: Json[] = [];
  for (const [i, c] of form.caps.entries()) {
    const max = Number(c.max);
    if (!/^\d+$/.test(c.max.trim()) || !Number.isSafeInteger(max) || max < 1) {
      return { error: `Cap ${i + 1}: the maximum is a whole number of at least 1.` };
    }
    if (!c.window.trim()) return { error: `Cap ${i + 1}: the window is required (e.g. 1d, 12h, 7d).` };
    const cap: Json = { max, window: c.window.trim() };
    if (c.channel) cap.channel = c.channel;
    if (c.category.trim()) cap.category = c.category.trim();
    caps.push(cap);
  }
  const policy: Json = { timezone: form.timezone.trim() || 'UTC', on_capped: form.onCapped };
  if (caps.length > 0) policy.caps = caps;
  if (form.quiet.enabled) {
    const quiet: Json = { start: form.quiet.start, end: form.quiet.end, action: form.quiet.action };
    if (form.quiet.channels.length > 0) quiet.channels = form.quiet.channels;
    policy.quiet_hours = quiet;
  }
  return { policy };
}

/** A provider's settings to start from (docs/channels.md), per channel and provider. */
export const PROVIDER_SKELETONS: Record<string, Record<string, Json>> = {
  email: {
    smtp: { provider: 'smtp', host: 'smtp.example.com', port: 587, security: 'starttls', username: '', password: '', from: 'Example <news@example.com>' },
    postmark: { provider: 'postmark', server_token: '', from: 'Example <news@example.com>' },
  },
  sms: {
    twilio: { provider: 'twilio', account_sid: '', auth_token: '', from: '+15550000000' },
  },
  push: {
    fcm: { fcm: { service_account_json: '', project_id: '' } },
    apns: { apns: { team_id: '', key_id: '', private_key: '', topic: 'com.example.app' } },
  },
  webhook: {
    webhook: { url: 'https://hooks.example.com/herald', secret: '' },
  },
};

/** Parse a provider's JSON from the editor: an object, or what is wrong. */
export function parseProvider(text: string): { value: Json } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { error: `Not JSON: ${(e as Error).message}` };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { error: 'A provider is a JSON object.' };
  return { value: value as Json };
}
