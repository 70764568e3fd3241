import { describe, expect, it } from 'vitest';
import { displayName, formatAgo, formatCount, formatTime, formatValue, splitIdentifier } from './format';

describe('format', () => {
  it('counts', () => {
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatCount(1234567, true)).toBe('1.2M');
    expect(formatCount(999, true)).toBe('999');
    expect(formatCount(150000, true)).toBe('150k');
    expect(formatCount(2000, true)).toBe('2k');
    expect(formatCount(Number.NaN)).toBe('–');
  });
  it('says how long ago', () => {
    const now = Date.parse('2026-12-04T12:00:00Z');
    expect(formatAgo('2026-12-04T11:59:55Z', now)).toBe('just now');
    expect(formatAgo('2026-12-04T11:59:00Z', now)).toBe('1 min ago');
    expect(formatAgo('2026-12-04T09:00:00Z', now)).toBe('3 h ago');
    expect(formatAgo('2026-12-01T12:00:00Z', now)).toBe('3 d ago');
    expect(formatAgo('2026-12-05T12:00:00Z', now)).toBe('in the future');
    expect(formatAgo(null, now)).toBe('–');
  });
  it('writes times in UTC', () => {
    expect(formatTime('2026-12-04T17:45:02.123+01:00')).toBe('2026-12-04 16:45:02 UTC');
    expect(formatTime('not a time')).toBe('not a time');
  });
  it('writes values', () => {
    expect(formatValue('Ana')).toBe('Ana');
    expect(formatValue(42)).toBe('42');
    expect(formatValue({ a: [1] })).toBe('{"a":[1]}');
    expect(formatValue(null)).toBe('null');
  });
  it('names a person by their best identifier', () => {
    const ids = [
      { kind: 'anonymous_id', value: 'a1' },
      { kind: 'user_id', value: 'u1' },
    ];
    expect(displayName(ids, 'p')).toBe('u1');
    expect(displayName([...ids, { kind: 'email', value: 'ana@example.com' }], 'p')).toBe('ana@example.com');
    expect(displayName([], 'p')).toBe('p');
  });
  it('splits identifiers at the first colon', () => {
    expect(splitIdentifier('email:ana@example.com')).toEqual({ kind: 'email', value: 'ana@example.com' });
    expect(splitIdentifier('user_id:a:b')).toEqual({ kind: 'user_id', value: 'a:b' });
    expect(splitIdentifier('odd')).toEqual({ kind: '', value: 'odd' });
  });
});
