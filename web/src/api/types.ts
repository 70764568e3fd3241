// The shapes of Herald's REST answers the dashboard reads (see /openapi.json).

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export type Role = 'admin' | 'viewer';

export interface User {
  id: string;
  email: string;
  role: Role;
  createdAt: string;
}

export interface Session {
  user: User;
  csrfToken: string;
}

export interface Identity {
  id: string;
  kind: string;
  value: string;
  linked_via?: string | null;
  seq: number;
  message_id: string;
}

export interface Group {
  group_id: string;
  joined_at: string;
  traits: JsonObject;
}

export interface ProfileSummary {
  profile_id: string;
  /** `kind:value`, in the order they joined. */
  identifiers: string[];
  traits: JsonObject;
  first_seen?: string | null;
  last_seen?: string | null;
}

export interface Profile {
  profile_id: string;
  traits: JsonObject;
  identities: Identity[];
  first_seen?: string | null;
  last_seen?: string | null;
  groups: Group[];
  timezone?: string | null;
  locale?: string | null;
  event_counts: Record<string, number>;
  total_events: number;
  computed_traits: JsonObject;
  audiences: string[];
}

export interface ProfilesPage {
  profiles: ProfileSummary[];
  next_cursor?: string | null;
}

export interface Merge {
  merge_id: string;
  seq: number;
  message_id: string;
  event_type: string;
  winner: string;
  loser: string;
  link: [string, string];
  winner_identifiers: string[];
  loser_identifiers: string[];
  merged_at: string;
  undone: boolean;
}

export interface Refusal {
  seq: number;
  identifier: string;
  reason: string;
}

export interface IdentityGraph {
  profile_id: string;
  identities: Identity[];
  merges: Merge[];
  refused_links: Refusal[];
}

/** A stored Segment message, with its log position. */
export type HeraldEvent = JsonObject & { seq?: number; type?: string; event?: string };

export interface Timeline {
  events: HeraldEvent[];
  next_cursor?: string | null;
}

export interface Backfill {
  state: 'pending' | 'running' | 'done';
  version: number;
  done: number;
  total: number;
  started_at?: string | null;
  finished_at?: string | null;
}

export interface Audience {
  id: string;
  name: string;
  description?: string | null;
  rule: Json;
  rule_text: string;
  size: number;
  ready: boolean;
  backfill: Backfill;
  created_at: string;
  updated_at: string;
}

export interface Preview {
  estimated_size: number;
  estimated_size_low: number;
  estimated_size_high: number;
  confidence: number;
  sampled: number;
  matched: number;
  total_profiles: number;
  seed: number;
  sample_members: string[];
  rule_text: string;
}

export interface Member {
  profile_id: string;
  entered_at?: string | null;
  values?: JsonObject | null;
}

export interface MembersPage {
  members: Member[];
  next_cursor?: string | null;
}

export interface SizePoint {
  date: string;
  entered: number;
  exited: number;
  size: number;
}

export interface Membership {
  audience_id: string;
  member: boolean;
  reason: Json;
}

export interface ProfileAudiences {
  profile_id: string;
  audiences: Membership[];
  computed_traits: JsonObject;
}

export interface MembershipChange {
  audience_id: string;
  change: string;
  at?: string | null;
  cause: Json;
}

export interface Key {
  id: string;
  kind: 'write' | 'admin';
  name: string;
  prefix: string;
  created_at: string;
  revoked_at?: string | null;
}

export interface CreatedKey extends Key {
  secret: string;
}

export interface Status {
  log_head: number;
  processed: number;
  lag: number;
  suppressed_events: number;
  unattributable_events: number;
  deleted_events: number;
  quarantined_events: number;
  discarded_events: number;
  storage_full: boolean;
  storage_full_since?: string | null;
}

/** Where a refused rule went wrong: text (line, column) or JSON (pointer). */
export interface RuleLocation {
  line?: number;
  column?: number;
  offset?: number;
  path?: string;
}
