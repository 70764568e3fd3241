// Herald's API as the pages use it: GraphQL (/graphql) for the data, REST for what GraphQL does
// not carry (dashboard users, the CSV export, metrics, the identity rules; the session is in
// ./session, so the sign-in page loads without the GraphQL client).
// Pages import from here only; answers are mapped to the shapes in ./types.
import { ApiError, request } from './client';
import type { Catalog } from '../lib/catalog';
import { gql, onSocket, subscribe } from './graphql';
import type {
  Audience,
  CreatedKey,
  HeraldEvent,
  Identity,
  IdentityGraph,
  Json,
  JsonObject,
  Key,
  MembersPage,
  MembershipChange,
  Preview,
  Profile,
  ProfileAudiences,
  ProfilesPage,
  SizePoint,
  Status,
  Timeline,
  User,
} from './types';

interface Page {
  endCursor?: string | null;
  hasNextPage: boolean;
}
const PAGE = 'pageInfo { endCursor hasNextPage }';
const next = (p: Page) => (p.hasNextPage ? (p.endCursor ?? null) : null);

interface GqlIdentifier {
  id: string;
  kind: string;
  value: string;
  linkedVia?: string | null;
  seq: number;
  messageId: string;
}
const IDENTIFIER = 'id kind value linkedVia seq messageId';
const identity = (i: GqlIdentifier): Identity => ({
  id: i.id,
  kind: i.kind,
  value: i.value,
  linked_via: i.linkedVia,
  seq: i.seq,
  message_id: i.messageId,
});

interface GqlEvent {
  seq: number;
  json: JsonObject;
}
const event = (e: GqlEvent): HeraldEvent => ({ ...e.json, seq: e.seq });

/** The profile, or a 404 like REST's when nobody has the identifier. */
async function profileQuery<T>(id: string, fields: string, variables: Record<string, unknown> = {}): Promise<T> {
  const names = Object.keys(variables);
  const params = names.map((n) => `, $${n}: ${n === 'first' || n === 'limit' ? 'Int' : 'String'}`).join('');
  const data = await gql<{ profile: T | null }>(`query ($id: String!${params}) { profile(id: $id) { ${fields} } }`, { id, ...variables });
  if (!data.profile) throw new ApiError(404, 'profile_not_found', `no profile has ${id}`);
  return data.profile;
}

export const profiles = {
  search: async (p: { identifier?: string; trait?: string; value?: string; cursor?: string }): Promise<ProfilesPage> => {
    const data = await gql<{
      profiles: { nodes: { id: string; identifiers: string[]; traits: JsonObject; firstSeen?: string; lastSeen?: string }[]; pageInfo: Page };
    }>(
      `query ($identifier: String, $trait: String, $value: String, $after: String) {
        profiles(identifier: $identifier, trait: $trait, value: $value, first: 50, after: $after) {
          nodes { id identifiers traits firstSeen lastSeen } ${PAGE} } }`,
      { identifier: p.identifier, trait: p.trait, value: p.value, after: p.cursor },
    );
    return {
      profiles: data.profiles.nodes.map((n) => ({
        profile_id: n.id,
        identifiers: n.identifiers,
        traits: n.traits,
        first_seen: n.firstSeen,
        last_seen: n.lastSeen,
      })),
      next_cursor: next(data.profiles.pageInfo),
    };
  },
  get: async (id: string): Promise<Profile> => {
    const p = await profileQuery<{
      id: string;
      traits: JsonObject;
      identifiers: GqlIdentifier[];
      groups: { groupId: string; joinedAt: string; traits: JsonObject }[];
      firstSeen?: string;
      lastSeen?: string;
      timezone?: string;
      locale?: string;
      eventCounts: Record<string, number>;
      totalEvents: number;
      computedTraits: JsonObject;
      audienceIds: string[];
    }>(
      id,
      `id traits identifiers { ${IDENTIFIER} } groups { groupId joinedAt traits } firstSeen lastSeen timezone locale
       eventCounts totalEvents computedTraits audienceIds`,
    );
    return {
      profile_id: p.id,
      traits: p.traits,
      identities: p.identifiers.map(identity),
      groups: p.groups.map((g) => ({ group_id: g.groupId, joined_at: g.joinedAt, traits: g.traits })),
      first_seen: p.firstSeen,
      last_seen: p.lastSeen,
      timezone: p.timezone,
      locale: p.locale,
      event_counts: p.eventCounts,
      total_events: p.totalEvents,
      computed_traits: p.computedTraits,
      audiences: p.audienceIds,
    };
  },
  timeline: async (id: string, f: { event?: string; since?: string; until?: string; cursor?: string }): Promise<Timeline> => {
    const p = await profileQuery<{ timeline: { nodes: GqlEvent[]; pageInfo: Page } }>(
      id,
      `timeline(first: 50, after: $after, event: $event, since: $since, until: $until) { nodes { seq json } ${PAGE} }`,
      { after: f.cursor, event: f.event, since: f.since, until: f.until },
    );
    return { events: p.timeline.nodes.map(event), next_cursor: next(p.timeline.pageInfo) };
  },
  identity: async (id: string): Promise<IdentityGraph> => {
    const p = await profileQuery<{
      identityGraph: {
        profileId: string;
        identifiers: GqlIdentifier[];
        merges: {
          id: string;
          seq: number;
          messageId: string;
          eventType: string;
          winner: string;
          loser: string;
          link: [string, string];
          winnerIdentifiers: string[];
          loserIdentifiers: string[];
          mergedAt: string;
          undone: boolean;
        }[];
        refusedLinks: { seq: number; identifier: string; reason: string }[];
      };
    }>(
      id,
      `identityGraph { profileId identifiers { ${IDENTIFIER} }
        merges { id seq messageId eventType winner loser link winnerIdentifiers loserIdentifiers mergedAt undone }
        refusedLinks { seq identifier reason } }`,
    );
    const g = p.identityGraph;
    return {
      profile_id: g.profileId,
      identities: g.identifiers.map(identity),
      merges: g.merges.map((m) => ({
        merge_id: m.id,
        seq: m.seq,
        message_id: m.messageId,
        event_type: m.eventType,
        winner: m.winner,
        loser: m.loser,
        link: m.link,
        winner_identifiers: m.winnerIdentifiers,
        loser_identifiers: m.loserIdentifiers,
        merged_at: m.mergedAt,
        undone: m.undone,
      })),
      refused_links: g.refusedLinks,
    };
  },
  audiences: async (id: string): Promise<ProfileAudiences> => {
    const p = await profileQuery<{ id: string; computedTraits: JsonObject; memberships: { audienceId: string; member: boolean; reason: Json }[] }>(
      id,
      'id computedTraits memberships { audienceId member reason }',
    );
    return {
      profile_id: p.id,
      computed_traits: p.computedTraits,
      audiences: p.memberships.map((m) => ({ audience_id: m.audienceId, member: m.member, reason: m.reason })),
    };
  },
  audienceHistory: async (id: string): Promise<MembershipChange[]> => {
    const p = await profileQuery<{ membershipHistory: { audienceId: string; change: string; at?: string; cause: Json }[] }>(
      id,
      'membershipHistory(limit: $limit) { audienceId change at cause }',
      { limit: 100 },
    );
    return p.membershipHistory.map((h) => ({ audience_id: h.audienceId, change: h.change.toLowerCase(), at: h.at, cause: h.cause }));
  },
  remove: (id: string) => gql<unknown>('mutation ($id: String!) { deleteProfile(id: $id) { profiles } }', { id }, true),
  undoMerge: (mergeId: string) =>
    gql<unknown>('mutation ($id: String!) { undoMerge(id: $id) { profiles } }', { id: mergeId }, true),
};

export interface AudienceDraft {
  id: string;
  name: string;
  description?: string;
  rule: Json;
}

const AUDIENCE = `id name description rule ruleText size ready
  backfill { state version done total startedAt finishedAt } createdAt updatedAt`;

interface GqlAudience {
  id: string;
  name: string;
  description?: string | null;
  rule: Json;
  ruleText: string;
  size: number;
  ready: boolean;
  backfill: { state: string; version: number; done: number; total: number; startedAt?: string; finishedAt?: string };
  createdAt: string;
  updatedAt: string;
}

const audience = (a: GqlAudience): Audience => ({
  id: a.id,
  name: a.name,
  description: a.description,
  rule: a.rule,
  rule_text: a.ruleText,
  size: a.size,
  ready: a.ready,
  backfill: {
    state: a.backfill.state.toLowerCase() as Audience['backfill']['state'],
    version: a.backfill.version,
    done: a.backfill.done,
    total: a.backfill.total,
    started_at: a.backfill.startedAt,
    finished_at: a.backfill.finishedAt,
  },
  created_at: a.createdAt,
  updated_at: a.updatedAt,
});

async function audienceQuery<T>(id: string, fields: string, after?: string): Promise<T> {
  const params = fields.includes('$after') ? ', $after: String' : '';
  const data = await gql<{ audience: T | null }>(`query ($id: String!${params}) { audience(id: $id) { ${fields} } }`, { id, after });
  if (!data.audience) throw new ApiError(404, 'audience_not_found', `no audience ${id}`);
  return data.audience;
}

/** A member's first identifier of a kind (the identifiers are in the order they joined). */
const firstOf = (ids: string[] | undefined, kind: string) => ids?.find((i) => i.startsWith(`${kind}:`))?.slice(kind.length + 1) ?? null;

export const audiences = {
  list: async () => (await gql<{ audiences: GqlAudience[] }>(`{ audiences { ${AUDIENCE} } }`)).audiences.map(audience),
  get: async (id: string) => audience(await audienceQuery<GqlAudience>(id, AUDIENCE)),
  create: async (a: AudienceDraft) =>
    audience(
      (await gql<{ createAudience: GqlAudience }>(`mutation ($input: AudienceInput!) { createAudience(input: $input) { ${AUDIENCE} } }`, { input: a }, true))
        .createAudience,
    ),
  update: async (a: AudienceDraft) =>
    audience(
      (
        await gql<{ updateAudience: GqlAudience }>(
          `mutation ($id: String!, $input: AudienceInput!) { updateAudience(id: $id, input: $input) { ${AUDIENCE} } }`,
          { id: a.id, input: { name: a.name, description: a.description, rule: a.rule } },
          true,
        )
      ).updateAudience,
    ),
  remove: (id: string) => gql<unknown>('mutation ($id: String!) { deleteAudience(id: $id) }', { id }, true),
  preview: async (rule: Json): Promise<Preview> => {
    const p = (
      await gql<{
        previewAudience: Omit<Preview, 'estimated_size' | 'estimated_size_low' | 'estimated_size_high' | 'total_profiles' | 'sample_members' | 'rule_text' | 'seed'> & {
          estimatedSize: number;
          estimatedSizeLow: number;
          estimatedSizeHigh: number;
          totalProfiles: number;
          sampleMemberIds: string[];
          ruleText: string;
          seed: string;
        };
      }>(
        `query ($rule: JSON!) { previewAudience(rule: $rule, sampleSize: 1000, seed: "1") {
          estimatedSize estimatedSizeLow estimatedSizeHigh confidence sampled matched totalProfiles seed sampleMemberIds ruleText } }`,
        { rule },
      )
    ).previewAudience;
    return {
      estimated_size: p.estimatedSize,
      estimated_size_low: p.estimatedSizeLow,
      estimated_size_high: p.estimatedSizeHigh,
      confidence: p.confidence,
      sampled: p.sampled,
      matched: p.matched,
      total_profiles: p.totalProfiles,
      seed: Number(p.seed),
      sample_members: p.sampleMemberIds,
      rule_text: p.ruleText,
    };
  },
  members: async (id: string, cursor?: string): Promise<MembersPage> => {
    const a = await audienceQuery<{
      members: { nodes: { profileId: string; enteredAt?: string; profile?: { identifiers: string[] } | null }[]; pageInfo: Page };
    }>(id, `members(first: 50, after: $after) { nodes { profileId enteredAt profile { identifiers } } ${PAGE} }`, cursor);
    return {
      members: a.members.nodes.map((m) => ({
        profile_id: m.profileId,
        entered_at: m.enteredAt,
        values: { email: firstOf(m.profile?.identifiers, 'email'), user_id: firstOf(m.profile?.identifiers, 'user_id') },
      })),
      next_cursor: next(a.members.pageInfo),
    };
  },
  membersCsvUrl: (id: string) =>
    `/api/v1/audiences/${encodeURIComponent(id)}/members.csv?columns=profile_id,entered_at,email,user_id`,
  sizeHistory: async (id: string): Promise<SizePoint[]> =>
    (await audienceQuery<{ sizeHistory: SizePoint[] }>(id, 'sizeHistory { date entered exited size }')).sizeHistory,
};

interface GqlKey {
  id: string;
  kind: 'WRITE' | 'ADMIN';
  name: string;
  prefix: string;
  createdAt: string;
  revokedAt?: string | null;
}
const KEY = 'id kind name prefix createdAt revokedAt';
const key = (k: GqlKey): Key => ({
  id: k.id,
  kind: k.kind === 'ADMIN' ? 'admin' : 'write',
  name: k.name,
  prefix: k.prefix,
  created_at: k.createdAt,
  revoked_at: k.revokedAt,
});

/** Names seen in the data (track events, properties, traits), for completion. */
export const catalog = {
  get: async (): Promise<Catalog> =>
    (await gql<{ catalog: Catalog }>('{ catalog { eventNames propertyNames traitNames } }')).catalog,
};

export const keys = {
  list: async () => (await gql<{ keys: GqlKey[] }>(`{ keys { ${KEY} } }`)).keys.map(key),
  create: async (kind: 'write' | 'admin', name: string): Promise<CreatedKey> => {
    const r = await gql<{ createKey: { key: GqlKey; secret: string } }>(
      `mutation ($kind: KeyKind!, $name: String!) { createKey(kind: $kind, name: $name) { key { ${KEY} } secret } }`,
      { kind: kind.toUpperCase(), name },
      true,
    );
    return { ...key(r.createKey.key), secret: r.createKey.secret };
  },
  revoke: (id: string) => gql<unknown>('mutation ($id: String!) { revokeKey(id: $id) }', { id }, true),
};

export const users = {
  list: () => request<User[]>('GET', '/api/v1/users'),
  create: (email: string, password: string, role: string) =>
    request<User>('POST', '/api/v1/users', { email, password, role }),
  remove: (id: string) => request<void>('DELETE', `/api/v1/users/${encodeURIComponent(id)}`),
};

export const ops = {
  status: async (): Promise<Status> => {
    const s = (
      await gql<{
        status: {
          logHead: number;
          processed: number;
          lag: number;
          suppressedEvents: number;
          unattributableEvents: number;
          deletedEvents: number;
          quarantinedEvents: number;
          discardedEvents: number;
          storageFull: boolean;
          storageFullSince?: string | null;
        };
      }>(`{ status { logHead processed lag suppressedEvents unattributableEvents deletedEvents quarantinedEvents discardedEvents storageFull storageFullSince } }`)
    ).status;
    return {
      log_head: s.logHead,
      processed: s.processed,
      lag: s.lag,
      suppressed_events: s.suppressedEvents,
      unattributable_events: s.unattributableEvents,
      deleted_events: s.deletedEvents,
      quarantined_events: s.quarantinedEvents,
      discarded_events: s.discardedEvents,
      storage_full: s.storageFull,
      storage_full_since: s.storageFullSince,
    };
  },
  /** The identity rules in force (REST: GraphQL's Status does not carry them). */
  identityRules: async () => (await request<{ identity_rules: Json }>('GET', '/api/v1/status')).identity_rules,
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

/** The live event stream (GraphQL subscription `events`). Returns a function that stops it. */
export function tail(filter: TailFilter, on: { event: (e: HeraldEvent) => void; ready: () => void; error: () => void }): () => void {
  const stopWatching = onSocket((open) => (open ? on.ready() : on.error()));
  const stop = subscribe<{ events: GqlEvent }>(
    'subscription ($type: String, $event: String) { events(type: $type, event: $event) { seq json } }',
    { type: filter.type || undefined, event: filter.event || undefined },
    { data: (d) => on.event(event(d.events)), error: () => on.error() },
  );
  return () => {
    stopWatching();
    stop();
  };
}
