import { describe, expect, it } from 'vitest';
import { eventMatchesIdentifier, parseProfileSearch, readFilters, withFilters } from './filters';

describe('URL filter state', () => {
  it('reads named filters, missing ones empty', () => {
    const s = new URLSearchParams('type=track&event=%20Order%20Completed%20&other=1');
    expect(readFilters(s, ['type', 'event', 'id'])).toEqual({ type: 'track', event: 'Order Completed', id: '' });
  });
  it('applies changes, drops empty values, keeps the rest, in a stable order', () => {
    const s = new URLSearchParams('tab=2&type=track&id=x');
    expect(withFilters(s, { type: 'identify', id: ' ', event: 'A B' }).toString()).toBe('event=A+B&tab=2&type=identify');
    expect(s.toString()).toBe('tab=2&type=track&id=x');
  });
  it('round-trips through the query string', () => {
    const next = withFilters(new URLSearchParams(), { event: 'Café & "more"', type: 'track' });
    expect(readFilters(new URLSearchParams(next.toString()), ['event', 'type'])).toEqual({ event: 'Café & "more"', type: 'track' });
  });
});

describe('profile search text', () => {
  it('reads identifiers, emails, user ids and trait tests', () => {
    expect(parseProfileSearch('email:ana')).toEqual({ identifier: 'email:ana' });
    expect(parseProfileSearch(' ana@example.com ')).toEqual({ identifier: 'email:ana@example.com' });
    expect(parseProfileSearch('42')).toEqual({ identifier: 'user_id:42' });
    expect(parseProfileSearch('plan = trial')).toEqual({ trait: 'plan', value: 'trial' });
    expect(parseProfileSearch('  ')).toBeNull();
  });
});

describe('identifier filter of the live view', () => {
  const e = { userId: 'U-42', anonymousId: 'anon-1', context: { traits: { email: 'Ana@Example.com' } } };
  it('matches any identifier of the event, case-insensitively', () => {
    expect(eventMatchesIdentifier(e, 'u-42')).toBe(true);
    expect(eventMatchesIdentifier(e, 'anon')).toBe(true);
    expect(eventMatchesIdentifier(e, 'ana@example')).toBe(true);
    expect(eventMatchesIdentifier(e, 'bob')).toBe(false);
    expect(eventMatchesIdentifier(e, '')).toBe(true);
  });
});
