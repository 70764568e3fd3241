// How numbers, times and JSON values read on the pages.

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 1234567 → "1,234,567"; with `compact`, "1.2M". */
export function formatCount(n: number, compact = false): string {
  if (!Number.isFinite(n)) return '–';
  if (compact && Math.abs(n) >= 1000) {
    const units: [number, string][] = [[1e9, 'B'], [1e6, 'M'], [1e3, 'k']];
    for (const [size, unit] of units) {
      if (Math.abs(n) >= size) return `${(n / size).toFixed(n / size >= 100 ? 0 : 1).replace(/\.0$/, '')}${unit}`;
    }
  }
  return integer.format(n);
}

/** How long ago `iso` was, from `now` (ms): "just now", "5 min ago", "3 h ago", "2 d ago". */
export function formatAgo(iso: string | null | undefined, now: number): string {
  if (!iso) return '–';
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return iso;
  const s = Math.round((now - then) / 1000);
  if (s < 0) return 'in the future';
  if (s < 10) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** An RFC 3339 time as "2026-12-04 17:45:02 UTC" (readable, unambiguous, sortable). */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** A trait or property value in one line: strings bare, everything else as JSON. */
export function formatValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined) return '–';
  return JSON.stringify(v);
}

/** `kind:value` as its two parts (the value may hold colons). */
export function splitIdentifier(id: string): { kind: string; value: string } {
  const at = id.indexOf(':');
  return at < 0 ? { kind: '', value: id } : { kind: id.slice(0, at), value: id.slice(at + 1) };
}

/** The identifier a person is best known by: email, then user id, phone, anonymous id. */
export function displayName(identities: { kind: string; value: string }[], fallback: string): string {
  for (const kind of ['email', 'user_id', 'phone', 'anonymous_id']) {
    const found = identities.find((i) => i.kind === kind);
    if (found) return found.value;
  }
  return fallback;
}
