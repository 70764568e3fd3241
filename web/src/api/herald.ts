// Herald's API as the pages use it. Pages import from here only, so moving a call to GraphQL
// is a change in this file.
import { query, request } from './client';
import type {
  Audience,
  CreatedKey,
  HeraldEvent,
  IdentityGraph,
  Json,
  Key,
  MembersPage,
  MembershipChange,
  Preview,
  Profile,
  ProfileAudiences,
  ProfilesPage,
  Session,
  SizePoint,
  Status,
  Timeline,
  User,
} from './types';

const enc = encodeURIComponent;

export const session = {
  get: () => request<Session>('GET', '/api/v1/session'),
  signIn: (email: string, password: string) =>
    request<Session>('POST', '/api/v1/session', { email, password }),
  signOut: () => request<void>('DELETE', '/api/v1/session'),
};

export const profiles = {
  search: (p: { identifier?: string; trait?: string; value?: string; cursor?: string }) =>
    request<ProfilesPage>('GET', `/api/v1/profiles${query({ ...p, limit: 50 })}`),
  get: (id: string) => request<Profile>('GET', `/api/v1/profiles/${enc(id)}`),
  timeline: (id: string, p: { event?: string; since?: string; until?: string; cursor?: string }) =>
    request<Timeline>('GET', `/api/v1/profiles/${enc(id)}/events${query({ ...p, limit: 50 })}`),
  identity: (id: string) => request<IdentityGraph>('GET', `/api/v1/profiles/${enc(id)}/identity`),
  audiences: (id: string) =>
    request<ProfileAudiences>('GET', `/api/v1/profiles/${enc(id)}/audiences`),
  audienceHistory: (id: string) =>
    request<MembershipChange[]>('GET', `/api/v1/profiles/${enc(id)}/audience-history?limit=100`),
  remove: (id: string) => request<unknown>('DELETE', `/api/v1/profiles/${enc(id)}`),
  undoMerge: (mergeId: string) =>
    request<unknown>('POST', `/api/v1/merges/${enc(mergeId)}/undo`, {}),
};

export interface AudienceDraft {
  id: string;
  name: string;
  description?: string;
  rule: Json;
}

export const audiences = {
  list: () => request<Audience[]>('GET', '/api/v1/audiences'),
  get: (id: string) => request<Audience>('GET', `/api/v1/audiences/${enc(id)}`),
  create: (a: AudienceDraft) => request<Audience>('POST', '/api/v1/audiences', a),
  update: (a: AudienceDraft) => request<Audience>('PUT', `/api/v1/audiences/${enc(a.id)}`, a),
  remove: (id: string) => request<void>('DELETE', `/api/v1/audiences/${enc(id)}`),
  preview: (rule: Json) =>
    request<Preview>('POST', '/api/v1/audiences/preview', { rule, sample_size: 1000, seed: 1 }),
  members: (id: string, cursor?: string) =>
    request<MembersPage>(
      'GET',
      `/api/v1/audiences/${enc(id)}/members${query({ cursor, limit: 50, columns: 'email,user_id' })}`,
    ),
  membersCsvUrl: (id: string) => `/api/v1/audiences/${enc(id)}/members.csv?columns=profile_id,entered_at,email,user_id`,
  sizeHistory: (id: string) => request<SizePoint[]>('GET', `/api/v1/audiences/${enc(id)}/size-history`),
};

export const keys = {
  list: () => request<Key[]>('GET', '/api/v1/keys'),
  create: (kind: 'write' | 'admin', name: string) =>
    request<CreatedKey>('POST', '/api/v1/keys', { kind, name }),
  revoke: (id: string) => request<void>('DELETE', `/api/v1/keys/${enc(id)}`),
};

export const users = {
  list: () => request<User[]>('GET', '/api/v1/users'),
  create: (email: string, password: string, role: string) =>
    request<User>('POST', '/api/v1/users', { email, password, role }),
  remove: (id: string) => request<void>('DELETE', `/api/v1/users/${enc(id)}`),
};

export const ops = {
  status: () => request<Status>('GET', '/api/v1/status'),
  metrics: async () => {
    const r = await fetch('/metrics', { credentials: 'same-origin' });
    if (!r.ok) throw new Error(`/metrics answered ${r.status}`);
    return r.text();
  },
};

export interface TailFilter {
  type?: string;
  event?: string;
}

/** The live event stream (`/api/v1/tail`, Server-Sent Events). Returns a function that stops it. */
export function tail(
  filter: TailFilter,
  on: { event: (e: HeraldEvent) => void; ready: () => void; error: () => void },
): () => void {
  const source = new EventSource(`/api/v1/tail${query({ type: filter.type, event: filter.event })}`, {
    withCredentials: true,
  });
  source.addEventListener('ready', () => on.ready());
  source.addEventListener('event', (m) => on.event(JSON.parse((m as MessageEvent<string>).data)));
  source.onerror = () => on.error();
  return () => source.close();
}
