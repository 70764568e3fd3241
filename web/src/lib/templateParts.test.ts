import { describe, expect, it } from 'vitest';
import { contentFor } from './templateParts';

describe('contentFor', () => {
  it('keeps only the channel’s parts, and no empty optional part', () => {
    const c = { subject: 'S', preheader: '', title: 'T', body: 'B', text: '', format: 'mjml' as const, strict: true };
    expect(contentFor('email', c)).toEqual({ subject: 'S', body: 'B', format: 'mjml', strict: true });
    expect(contentFor('push', c)).toEqual({ title: 'T', body: 'B', strict: true });
    expect(contentFor('sms', { ...c, strict: false })).toEqual({ body: 'B' });
  });
  it('sends a required part even when empty, so the server names it', () => {
    expect(contentFor('email', { subject: '', body: 'B' })).toEqual({ subject: '', body: 'B' });
    expect(contentFor('push', { body: 'B' })).toEqual({ body: 'B' });
  });
});
