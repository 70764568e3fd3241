// A template's parts per channel (docs/templates.md), and its content as the API takes it.
import type { JsonObject } from '../api/types';

export type Channel = 'email' | 'sms' | 'push' | 'webhook' | 'in_app' | 'snippet';
export const CHANNELS: Channel[] = ['email', 'sms', 'push', 'webhook', 'in_app', 'snippet'];
export type Part = 'subject' | 'preheader' | 'title' | 'body' | 'text';

/** The parts a channel's template has, in the order the editor shows them, and which it needs. */
export const PARTS: Record<Channel, { parts: Part[]; required: Part[]; formats: ('html' | 'mjml' | 'text')[] }> = {
  email: { parts: ['subject', 'preheader', 'body', 'text'], required: ['subject'], formats: ['html', 'mjml'] },
  sms: { parts: ['body'], required: [], formats: ['text'] },
  push: { parts: ['title', 'body'], required: ['title'], formats: ['text'] },
  webhook: { parts: ['body'], required: [], formats: ['text'] },
  in_app: { parts: ['title', 'body'], required: [], formats: ['html', 'text'] },
  snippet: { parts: ['body'], required: [], formats: ['text'] },
};

export interface TemplateContent {
  subject?: string;
  preheader?: string;
  title?: string;
  body: string;
  text?: string;
  format?: 'html' | 'mjml' | 'text';
  strict?: boolean;
}

/** The content as the API takes it: only the channel's parts, no empty optional part. */
export function contentFor(channel: Channel, c: TemplateContent): JsonObject {
  const out: JsonObject = { body: c.body };
  for (const part of PARTS[channel].parts) {
    const value = c[part];
    if (part !== 'body' && value !== undefined && (value !== '' || PARTS[channel].required.includes(part))) out[part] = value;
  }
  if (PARTS[channel].formats.length > 1 && c.format) out.format = c.format;
  if (c.strict) out.strict = true;
  return out;
}

