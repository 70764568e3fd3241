import { describe, expect, it } from 'vitest';
import { newCap, parseProvider, policyFromJson, policyToJson, topicsFromJson, topicsToJson } from './messagingSettings';

describe('topics', () => {
  it('round-trips the API topics through the form, leaving defaults out', () => {
    const api = [
      { key: 'newsletter', channel: 'email', default: 'opt_out' },
      { key: 'alerts', channel: 'sms', default: 'opt_in', description: 'Price alerts', double_opt_in: true, confirmation_template: 'confirm' },
    ];
    const forms = topicsFromJson(api);
    expect(forms[0]).toMatchObject({ key: 'newsletter', description: '', doubleOptIn: false });
    expect(forms[1]).toMatchObject({ default: 'opt_in', doubleOptIn: true, confirmationTemplate: 'confirm' });
    expect(topicsToJson(forms)).toEqual(api);
  });

  it('trims what was typed and reads nothing from a missing section', () => {
    const f = topicsFromJson([{ key: 'news', channel: 'email', default: 'opt_out' }])[0]!;
    expect(topicsToJson([{ ...f, key: ' news ', description: '  ' }])).toEqual([{ key: 'news', channel: 'email', default: 'opt_out' }]);
    expect(topicsFromJson(undefined)).toEqual([]);
  });
});

describe('policy', () => {
  it('round-trips caps, quiet hours and the capped action', () => {
    const api = {
      timezone: 'Europe/Berlin',
      on_capped: 'defer',
      caps: [
        { category: 'marketing', max: 2, window: '1d' },
        { channel: 'sms', max: 5, window: '7d' },
      ],
      quiet_hours: { start: '21:00', end: '08:00', action: 'drop', channels: ['sms'] },
    };
    expect(policyToJson(policyFromJson(api))).toEqual({ policy: api });
  });

  it('leaves quiet hours and caps out when there are none, and defaults the time zone', () => {
    const form = policyFromJson({});
    expect(form.quiet.enabled).toBe(false);
    expect(policyToJson({ ...form, timezone: ' ' })).toEqual({ policy: { timezone: 'UTC', on_capped: 'drop' } });
  });

  it('refuses a cap without a whole maximum or a window, naming it', () => {
    const form = policyFromJson({});
    for (const max of ['0', '-1', '1.5', 'two', '']) {
      expect(policyToJson({ ...form, caps: [newCap(), { ...newCap(), max }] })).toEqual({
        error: 'Cap 2: the maximum is a whole number of at least 1.',
      });
    }
    expect(policyToJson({ ...form, caps: [{ ...newCap(), window: ' ' }] })).toEqual({
      error: 'Cap 1: the window is required (e.g. 1d, 12h, 7d).',
    });
  });
});

describe('parseProvider', () => {
  it('takes a JSON object and refuses anything else', () => {
    expect(parseProvider('{"provider":"smtp"}')).toEqual({ value: { provider: 'smtp' } });
    expect(parseProvider('[1]')).toEqual({ error: 'A provider is a JSON object.' });
    expect(parseProvider('null')).toEqual({ error: 'A provider is a JSON object.' });
    expect('error' in parseProvider('{"provider":')).toBe(true);
  });
});
