// The one place the dashboard talks HTTP: same-origin fetch with the session cookie, the CSRF
// token on every mutating request, and Herald's JSON errors turned into ApiError.
import type { RuleLocation } from './types';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly location?: RuleLocation,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;

/** The token of the signed-in session, sent as X-CSRF-Token on every mutation. */
export function setCsrfToken(token: string | null) {
  csrfToken = token;
}

/** The header every mutating request carries (none before signing in). */
export function csrfHeaders(): Record<string, string> {
  return csrfToken ? { 'X-CSRF-Token': csrfToken } : {};
}

/** Called when any request answers 401: the session ended. */
let onSignedOut: () => void = () => {};
export function onUnauthorized(callback: () => void) {
  onSignedOut = callback;
}
/** Tell the app its session is over (a 401 from anywhere). */
export function sessionEnded() {
  onSignedOut();
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'network', `Herald could not be reached (${String(e)})`);
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const err = (data ?? {}) as { code?: string; message?: string; location?: RuleLocation };
    if (response.status === 401 && path !== '/api/v1/session') onSignedOut();
    throw new ApiError(
      response.status,
      err.code ?? `http_${response.status}`,
      err.message ?? `${response.status} ${response.statusText}`,
      err.location,
    );
  }
  return data as T;
}

/** A query string from the defined, non-empty values. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}
