// The GraphQL helper sends a generated document as written, with its variables and the CSRF
// header, and turns GraphQL errors into the REST ApiError.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeleteAudienceDocument, StatusDocument } from '../gql/graphql';
import { ApiError, onUnauthorized, setCsrfToken } from './client';
import { gql } from './graphql';

// graphql.ts makes its (lazy, never connected here) socket client on load; Node 20 has no WebSocket.
vi.hoisted(() => {
  globalThis.WebSocket ??= class {} as unknown as typeof WebSocket;
});

function answer(status: number, body: unknown) {
  const fetch = vi.fn(async (_url: string, _init: RequestInit) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } }));
  vi.stubGlobal('fetch', fetch);
  return fetch;
}

afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken(null);
});

describe('gql', () => {
  it('posts the generated document, its variables and the CSRF token', async () => {
    setCsrfToken('token-1');
    const fetch = answer(200, { data: { deleteAudience: 'vip' } });
    expect(await gql(DeleteAudienceDocument, { id: 'vip' }, true)).toEqual({ deleteAudience: 'vip' });
    const [url, init] = fetch.mock.calls[0]!;
    expect(url).toBe('/graphql');
    expect(init.method).toBe('POST');
    expect(new Headers(init.headers).get('X-CSRF-Token')).toBe('token-1');
    const body = JSON.parse(String(init.body));
    expect(body.variables).toEqual({ id: 'vip' });
    expect(body.operationName).toBe('DeleteAudience');
    expect(body.query.replace(/\s+/g, ' ').trim()).toBe(DeleteAudienceDocument.toString().replace(/\s+/g, ' ').trim());
  });

  it('turns the first GraphQL error into an ApiError with its code, status and location', async () => {
    const location = { line: 1, column: 4 };
    answer(200, { data: null, errors: [{ message: 'bad rule', extensions: { code: 'invalid_rule', status: 400, location } }] });
    const error = await gql(StatusDocument, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 400, code: 'invalid_rule', message: 'bad rule', location });
  });

  it('ends the session on a 401', async () => {
    const ended = vi.fn();
    onUnauthorized(ended);
    answer(401, { code: 'unauthorized', message: 'sign in' });
    const error = await gql(StatusDocument, {}).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 0, code: 'network' });
    expect(ended).toHaveBeenCalledTimes(1);
    onUnauthorized(() => {});
  });

  it('refuses a document codegen has not seen, saying what to run', async () => {
    // What graphql(`...`) answers for a literal missing from the generated map.
    const unseen = {} as typeof StatusDocument;
    await expect(gql(unseen, {})).rejects.toThrow('run `npm run codegen` in web/');
  });
});
