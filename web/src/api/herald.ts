// Herald's API as the pages use it: GraphQL (/graphql) for the data, REST for what GraphQL does
// not carry (dashboard users, the CSV export, metrics, the identity rules; the session is in
// ./session, so the sign-in page loads without the GraphQL client).
// Pages import from here only; answers are mapped to the shapes in ./types.
//
// Every GraphQL document is a static, named `graphql(...)` literal below. `npm run codegen`
// checks them against crates/herald-graphql/schema.graphql and writes their result and
// variables types to ../gql/ (checked in), which type the answers here; after changing a
// document or the schema, run it again (`npm test` fails while ../gql/ is stale).
import { ApiError, request } from './client';
import type { Catalog } from '../lib/catalog';
import { graphql } from '../gql';
import type { AudienceFieldsFragment, IdentifierFieldsFragment, KeyFieldsFragment } from '../gql/graphql';
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

const next = (p: { endCursor?: string | null; hasNextPage: boolean }) => (p.hasNextPage ? (p.endCursor ?? null) : null);

// Traits, computed traits and an event's `json` are `JSON` in the schema, always objects.
const object = (j: Json) => j as JsonObject;

graphql(`
  fragment IdentifierFields on Identifier {
    id kind value linkedVia seq messageId
  }
`);
const identity = (i: IdentifierFieldsFragment): Identity => ({
  id: i.id,
  kind: i.kind,
  value: i.value,
  linked_via: i.linkedVia,
  seq: i.seq,
  message_id: i.messageId,
});

const event = (e: { seq: number; json: Json }): HeraldEvent => ({ ...object(e.json), seq: e.seq });

/** The profile, or a 404 like REST's when nobody has the identifier. */
function profileFound<T>(profile: T | null | undefined, id: string): T {
  if (!profile) throw new ApiError(404, 'profile_not_found', `no profile has ${id}`);
  return profile;
}

const ProfilesDocument = graphql(`
  query Profiles($identifier: String, $trait: String, $value: String, $after: String) {
    profiles(identifier: $identifier, trait: $trait, value: $value, first: 50, after: $after) {
      nodes { id identifiers traits firstSeen lastSeen }
      pageInfo { endCursor hasNextPage }
    }
  }
`);

const ProfileDocument = graphql(`
  query Profile($id: String!) {
    profile(id: $id) {
      id traits identifiers { ...IdentifierFields } groups { groupId joinedAt traits }
      firstSeen lastSeen timezone locale eventCounts totalEvents computedTraits audienceIds
    }
  }
`);

const ProfileTimelineDocument = graphql(`
  query ProfileTimeline($id: String!, $after: String, $event: String, $since: String, $until: String) {
    profile(id: $id) {
      timeline(first: 50, after: $after, event: $event, since: $since, until: $until) {
        nodes { seq json }
        pageInfo { endCursor hasNextPage }
      }
    }
  }
`);

const ProfileIdentityGraphDocument = graphql(`
  query ProfileIdentityGraph($id: String!) {
    profile(id: $id) {
      identityGraph {
        profileId
        identifiers { ...IdentifierFields }
        merges { id seq messageId eventType winner loser link winnerIdentifiers loserIdentifiers mergedAt undone }
        refusedLinks { seq identifier reason }
      }
    }
  }
`);

const ProfileAudiencesDocument = graphql(`
  query ProfileAudiences($id: String!) {
    profile(id: $id) { id computedTraits memberships { audienceId member reason } }
  }
`);

const ProfileMembershipHistoryDocument = graphql(`
  query ProfileMembershipHistory($id: String!, $limit: Int) {
    profile(id: $id) { membershipHistory(limit: $limit) { audienceId change at cause } }
  }
`);

const DeleteProfileDocument = graphql(`
  mutation DeleteProfile($id: String!) {
    deleteProfile(id: $id) { profiles }
  }
`);

const UndoMergeDocument = graphql(`
  mutation UndoMerge($id: String!) {
    undoMerge(id: $id) { profiles }
  }
`);

export const profiles = {
  search: async (p: { identifier?: string; trait?: string; value?: string; cursor?: string }): Promise<ProfilesPage> => {
    const data = await gql(ProfilesDocument, { identifier: p.identifier, trait: p.trait, value: p.value, after: p.cursor });
    return {
      profiles: data.profiles.nodes.map((n) => ({
        profile_id: n.id,
        identifiers: n.identifiers,
        traits: object(n.traits),
        first_seen: n.firstSeen,
        last_seen: n.lastSeen,
      })),
      next_cursor: next(data.profiles.pageInfo),
    };
  },
  get: async (id: string): Promise<Profile> => {
    const p = profileFound((await gql(ProfileDocument, { id })).profile, id);
    return {
      profile_id: p.id,
      traits: object(p.traits),
      identities: p.identifiers.map(identity),
      groups: p.groups.map((g) => ({ group_id: g.groupId, joined_at: g.joinedAt, traits: object(g.traits) })),
      first_seen: p.firstSeen,
      last_seen: p.lastSeen,
      timezone: p.timezone,
      locale: p.locale,
      event_counts: p.eventCounts as Record<string, number>,
      total_events: p.totalEvents,
      computed_traits: object(p.computedTraits),
      audiences: p.audienceIds,
    };
  },
  timeline: async (id: string, f: { event?: string; since?: string; until?: string; cursor?: string }): Promise<Timeline> => {
    const p = profileFound(
      (await gql(ProfileTimelineDocument, { id, after: f.cursor, event: f.event, since: f.since, until: f.until })).profile,
      id,
    );
    return { events: p.timeline.nodes.map(event), next_cursor: next(p.timeline.pageInfo) };
  },
  identity: async (id: string): Promise<IdentityGraph> => {
    const g = profileFound((await gql(ProfileIdentityGraphDocument, { id })).profile, id).identityGraph;
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
        // The two identifiers the event linked (the schema's list always has two).
        link: m.link as [string, string],
        winner_identifiers: m.winnerIdentifiers,
        loser_identifiers: m.loserIdentifiers,
        merged_at: m.mergedAt,
        undone: m.undone,
      })),
      refused_links: g.refusedLinks,
    };
  },
  audiences: async (id: string): Promise<ProfileAudiences> => {
    const p = profileFound((await gql(ProfileAudiencesDocument, { id })).profile, id);
    return {
      profile_id: p.id,
      computed_traits: object(p.computedTraits),
      audiences: p.memberships.map((m) => ({ audience_id: m.audienceId, member: m.member, reason: m.reason })),
    };
  },
  audienceHistory: async (id: string): Promise<MembershipChange[]> => {
    const p = profileFound((await gql(ProfileMembershipHistoryDocument, { id, limit: 100 })).profile, id);
    return p.membershipHistory.map((h) => ({ audience_id: h.audienceId, change: h.change.toLowerCase(), at: h.at, cause: h.cause }));
  },
  remove: (id: string) => gql(DeleteProfileDocument, { id }, true),
  undoMerge: (mergeId: string) => gql(UndoMergeDocument, { id: mergeId }, true),
};

export interface AudienceDraft {
  id: string;
  name: string;
  description?: string;
  rule: Json;
}

graphql(`
  fragment AudienceFields on Audience {
    id name description rule ruleText size ready
    backfill { state version done total startedAt finishedAt }
    createdAt updatedAt
  }
`);

const audience = (a: AudienceFieldsFragment): Audience => ({
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

/** The audience, or a 404 like REST's when there is none. */
function audienceFound<T>(a: T | null | undefined, id: string): T {
  if (!a) throw new ApiError(404, 'audience_not_found', `no audience ${id}`);
  return a;
}

/** A member's first identifier of a kind (the identifiers are in the order they joined). */
const firstOf = (ids: string[] | undefined, kind: string) => ids?.find((i) => i.startsWith(`${kind}:`))?.slice(kind.length + 1) ?? null;

const AudiencesDocument = graphql(`
  query Audiences {
    audiences { ...AudienceFields }
  }
`);

const AudienceDocument = graphql(`
  query Audience($id: String!) {
    audience(id: $id) { ...AudienceFields }
  }
`);

const CreateAudienceDocument = graphql(`
  mutation CreateAudience($input: AudienceInput!) {
    createAudience(input: $input) { ...AudienceFields }
  }
`);

const UpdateAudienceDocument = graphql(`
  mutation UpdateAudience($id: String!, $input: AudienceInput!) {
    updateAudience(id: $id, input: $input) { ...AudienceFields }
  }
`);

const DeleteAudienceDocument = graphql(`
  mutation DeleteAudience($id: String!) {
    deleteAudience(id: $id)
  }
`);

const PreviewAudienceDocument = graphql(`
  query PreviewAudience($rule: JSON!) {
    previewAudience(rule: $rule, sampleSize: 1000, seed: "1") {
      estimatedSize estimatedSizeLow estimatedSizeHigh confidence sampled matched totalProfiles seed sampleMemberIds ruleText
    }
  }
`);

const AudienceMembersDocument = graphql(`
  query AudienceMembers($id: String!, $after: String) {
    audience(id: $id) {
      members(first: 50, after: $after) {
        nodes { profileId enteredAt profile { identifiers } }
        pageInfo { endCursor hasNextPage }
      }
    }
  }
`);

const AudienceSizeHistoryDocument = graphql(`
  query AudienceSizeHistory($id: String!) {
    audience(id: $id) { sizeHistory { date entered exited size } }
  }
`);

export const audiences = {
  list: async () => (await gql(AudiencesDocument, {})).audiences.map(audience),
  get: async (id: string) => audience(audienceFound((await gql(AudienceDocument, { id })).audience, id)),
  create: async (a: AudienceDraft) => audience((await gql(CreateAudienceDocument, { input: a }, true)).createAudience),
  update: async (a: AudienceDraft) =>
    audience(
      (await gql(UpdateAudienceDocument, { id: a.id, input: { name: a.name, description: a.description, rule: a.rule } }, true))
        .updateAudience,
    ),
  remove: (id: string) => gql(DeleteAudienceDocument, { id }, true),
  preview: async (rule: Json): Promise<Preview> => {
    const p = (await gql(PreviewAudienceDocument, { rule })).previewAudience;
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
    const a = audienceFound((await gql(AudienceMembersDocument, { id, after: cursor })).audience, id);
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
    audienceFound((await gql(AudienceSizeHistoryDocument, { id })).audience, id).sizeHistory,
};

graphql(`
  fragment KeyFields on ApiKey {
    id kind name prefix createdAt revokedAt
  }
`);
const key = (k: KeyFieldsFragment): Key => ({
  id: k.id,
  kind: k.kind === 'ADMIN' ? 'admin' : 'write',
  name: k.name,
  prefix: k.prefix,
  created_at: k.createdAt,
  revoked_at: k.revokedAt,
});

const CatalogDocument = graphql(`
  query Catalog {
    catalog { eventNames propertyNames traitNames }
  }
`);

/** Names seen in the data (track events, properties, traits), for completion. */
export const catalog = {
  get: async (): Promise<Catalog> => (await gql(CatalogDocument, {})).catalog,
};

const KeysDocument = graphql(`
  query Keys {
    keys { ...KeyFields }
  }
`);

const CreateKeyDocument = graphql(`
  mutation CreateKey($kind: KeyKind!, $name: String!) {
    createKey(kind: $kind, name: $name) { key { ...KeyFields } secret }
  }
`);

const RevokeKeyDocument = graphql(`
  mutation RevokeKey($id: String!) {
    revokeKey(id: $id)
  }
`);

const keyKind = { write: 'WRITE', admin: 'ADMIN' } as const;

export const keys = {
  list: async () => (await gql(KeysDocument, {})).keys.map(key),
  create: async (kind: 'write' | 'admin', name: string): Promise<CreatedKey> => {
    const r = await gql(CreateKeyDocument, { kind: keyKind[kind], name }, true);
    return { ...key(r.createKey.key), secret: r.createKey.secret };
  },
  revoke: (id: string) => gql(RevokeKeyDocument, { id }, true),
};

export const users = {
  list: () => request<User[]>('GET', '/api/v1/users'),
  create: (email: string, password: string, role: string) =>
    request<User>('POST', '/api/v1/users', { email, password, role }),
  remove: (id: string) => request<void>('DELETE', `/api/v1/users/${encodeURIComponent(id)}`),
};

const StatusDocument = graphql(`
  query Status {
    status {
      logHead processed lag suppressedEvents unattributableEvents deletedEvents quarantinedEvents discardedEvents
      storageFull storageFullSince
    }
  }
`);

export const ops = {
  status: async (): Promise<Status> => {
    const s = (await gql(StatusDocument, {})).status;
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

const LiveEventsDocument = graphql(`
  subscription LiveEvents($type: String, $event: String) {
    events(type: $type, event: $event) { seq json }
  }
`);

/** The live event stream (GraphQL subscription `events`). Returns a function that stops it. */
export function tail(filter: TailFilter, on: { event: (e: HeraldEvent) => void; ready: () => void; error: () => void }): () => void {
  const stopWatching = onSocket((open) => (open ? on.ready() : on.error()));
  const stop = subscribe(
    LiveEventsDocument,
    { type: filter.type || undefined, event: filter.event || undefined },
    { data: (d) => on.event(event(d.events)), error: () => on.error() },
  );
  return () => {
    stopWatching();
    stop();
  };
}
