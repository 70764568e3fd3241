import { describe, expect, it } from 'vitest';
import { inMotion, type Motion } from './broadcast';

const base: Motion = { status: 'finished' };

const withStatuses = (status: string, statuses: [string, number][]): Motion => ({
  status,
  progress: { statuses: statuses.map(([name, count]) => ({ name, count })) },
});

describe('inMotion', () => {
  it('watches a broadcast while it enqueues or its messages wait or are in flight', () => {
    expect(inMotion(withStatuses('scheduled', []))).toBe(true);
    expect(inMotion(withStatuses('running', [['sent', 3]]))).toBe(true);
    expect(inMotion(withStatuses('finished', [['queued', 1], ['sent', 3]]))).toBe(true);
    expect(inMotion(withStatuses('finished', [['sending', 1]]))).toBe(true);
  });

  it('stops once nothing moves: finished and settled, paused, cancelled', () => {
    expect(inMotion(withStatuses('finished', [['sent', 3], ['skipped', 1], ['queued', 0]]))).toBe(false);
    expect(inMotion(withStatuses('paused', [['paused', 3]]))).toBe(false);
    expect(inMotion(withStatuses('cancelled', [['skipped', 3]]))).toBe(false);
    expect(inMotion(base)).toBe(false);
  });
});
