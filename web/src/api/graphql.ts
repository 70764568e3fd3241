// The GraphQL client (urql core over POST /graphql, graphql-ws for subscriptions). The
// session cookie authenticates both; POSTs carry the CSRF token like every mutating request.
// Documents are the typed strings `npm run codegen` generates (../gql/) for every `graphql(...)`
// literal: each carries its result and variables types, so an answer is typed by the document
// that asked for it.
import { Client, fetchExchange, subscriptionExchange, type AnyVariables } from '@urql/core';
import { createClient as createWsClient } from 'graphql-ws';
import { TypedDocumentString } from '../gql/graphql';
import { ApiError, csrfHeaders, sessionEnded } from './client';
import type { RuleLocation } from './types';

const wsUrl = () => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
let socketOpen = false;
const socketWatchers = new Set<(open: boolean) => void>();
const ws = createWsClient({
  url: wsUrl,
  lazy: true,
  retryAttempts: Infinity,
  on: {
    connected: () => {
      socketOpen = true;
      socketWatchers.forEach((w) => w(true));
    },
    closed: () => {
      if (socketOpen) socketWatchers.forEach((w) => w(false));
      socketOpen = false;
    },
  },
});

/** Be told when the subscription socket opens (now, if it is open) and closes. */
export function onSocket(watch: (open: boolean) => void): () => void {
  socketWatchers.add(watch);
  if (socketOpen) watch(true);
  return () => socketWatchers.delete(watch);
}

export const client = new Client({
  url: '/graphql',
  preferGetMethod: false,
  requestPolicy: 'network-only',
  fetchOptions: () => ({ credentials: 'same-origin', headers: csrfHeaders() }),
  exchanges: [
    fetchExchange,
    subscriptionExchange({
      forwardSubscription: (request) => ({
        subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
      }),
    }),
  ],
});

interface GqlErrorExtensions {
  code?: string;
  status?: number;
  location?: RuleLocation;
}

/**
 * The text of a generated document. `graphql(...)` answers `{}` for a literal codegen has not
 * seen (the dev server does not type-check): say so rather than send "[object Object]".
 */
function text(document: TypedDocumentString<unknown, never>): string {
  if (!(document instanceof TypedDocumentString)) {
    throw new Error('a GraphQL document without generated types: run `npm run codegen` in web/');
  }
  return document.toString();
}

/** Run a query or mutation; a GraphQL error becomes an ApiError with the REST code. */
export async function gql<T, V extends AnyVariables>(document: TypedDocumentString<T, V>, variables: V, mutation = false): Promise<T> {
  const query = text(document);
  const result = await (mutation ? client.mutation<T, V>(query, variables) : client.query<T, V>(query, variables)).toPromise();
  if (result.error) {
    const first = result.error.graphQLErrors[0];
    if (first) {
      const ext = (first.extensions ?? {}) as GqlErrorExtensions;
      throw new ApiError(ext.status ?? 200, ext.code ?? 'graphql_error', first.message, ext.location);
    }
    if ((result.error.response as Response | undefined)?.status === 401) sessionEnded();
    const network = result.error.networkError;
    throw new ApiError(0, 'network', network ? network.message : result.error.message);
  }
  return result.data as T;
}

/** Subscribe; returns a function that stops. */
export function subscribe<T, V extends AnyVariables>(
  document: TypedDocumentString<T, V>,
  variables: V,
  on: { data: (d: T) => void; error: (e: Error) => void },
): () => void {
  const { unsubscribe } = client.subscription<T, V>(text(document), variables).subscribe((result) => {
    if (result.error) on.error(result.error);
    else if (result.data) on.data(result.data);
  });
  return unsubscribe;
}
