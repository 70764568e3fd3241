// The GraphQL client (urql core over POST /graphql, graphql-ws for subscriptions). The
// session cookie authenticates both; POSTs carry the CSRF token like every mutating request.
import { Client, fetchExchange, subscriptionExchange, type AnyVariables } from '@urql/core';
import { createClient as createWsClient } from 'graphql-ws';
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

/** Run a query or mutation; a GraphQL error becomes an ApiError with the REST code. */
export async function gql<T>(query: string, variables: AnyVariables = {}, mutation = false): Promise<T> {
  const result = await (mutation ? client.mutation<T>(query, variables) : client.query<T>(query, variables)).toPromise();
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
export function subscribe<T>(
  query: string,
  variables: AnyVariables,
  on: { data: (d: T) => void; error: (e: Error) => void },
): () => void {
  const { unsubscribe } = client.subscription<T>(query, variables).subscribe((result) => {
    if (result.error) on.error(result.error);
    else if (result.data) on.data(result.data);
  });
  return unsubscribe;
}
