/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { Json } from '../api/types';
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** An audience to create or to change. */
export type AudienceInput = {
  description?: string | null | undefined;
  /** 1–64 lowercase letters, digits, `_` or `-` (ignored when updating). */
  id?: string | null | undefined;
  name?: string | null | undefined;
  /** The rule: a string in the text form, or the JSON form. */
  rule: Json;
};

export type BackfillState =
  | 'DONE'
  | 'PENDING'
  | 'RUNNING';

/** A change of a person's subscriptions on one channel. */
export type ChangeSubscriptionsInput = {
  channel: MessageChannel;
  subscribe?: Array<string>;
  unsubscribe?: Array<string>;
  /** `true`: nothing but transactional messages on the channel; `false`: undo that. */
  unsubscribed?: boolean | null | undefined;
};

/** A broadcast to create (docs/broadcasts.md has every field). */
export type CreateBroadcastInput = {
  audience: string;
  category?: string | null | undefined;
  holdoutPercent?: number | null | undefined;
  localTime?: string | null | undefined;
  name: string;
  priority?: string | null | undefined;
  sendAt?: string | null | undefined;
  template: string;
  timeZone?: string | null | undefined;
  topic?: string | null | undefined;
  transactional?: boolean;
};

export type KeyKind =
  /** The admin API and GraphQL. */
  | 'ADMIN'
  /** Sends events (`/v1/*`); public, in SDKs. */
  | 'WRITE';

export type MembershipChangeKind =
  | 'ENTERED'
  | 'EXITED';

/** A messaging channel. */
export type MessageChannel =
  | 'EMAIL'
  | 'IN_APP'
  | 'PUSH'
  | 'SMS'
  | 'WEBHOOK';

/** An address to suppress. */
export type SuppressAddressInput = {
  address: string;
  channel: MessageChannel;
  /** Default `manual`. */
  reason?: string | null | undefined;
};

export type TemplateInput = {
  channel: string;
  content: Json;
  /** Updates only: save only if this is still the current version. */
  expectedVersion?: number | null | undefined;
  /** New templates only (an update takes it from its argument). */
  id?: string | null | undefined;
  name?: string | null | undefined;
};

export type BroadcastFieldsFragment = { id: string, name: string, templateId: string, templateVersion: number, audienceId: string, topic: string | null, category: string, holdoutPercent: number, sendAt: string | null, localTime: string | null, timeZone: string | null, status: string, startsAt: string | null, createdAt: string | null, finishedAt: string | null };

export type BroadcastProgressFieldsFragment = { progress: { enqueued: number, audienceSize: number, statuses: Array<{ name: string, count: number }>, skipped: Array<{ name: string, count: number }>, failed: Array<{ name: string, count: number }> } | null };

export type BroadcastsQueryVariables = Exact<{ [key: string]: never; }>;


export type BroadcastsQuery = { broadcasts: { next: string | null, nodes: Array<{ id: string, name: string, templateId: string, templateVersion: number, audienceId: string, topic: string | null, category: string, holdoutPercent: number, sendAt: string | null, localTime: string | null, timeZone: string | null, status: string, startsAt: string | null, createdAt: string | null, finishedAt: string | null }> } };

export type BroadcastQueryVariables = Exact<{
  id: string;
}>;


export type BroadcastQuery = { broadcast: { id: string, name: string, templateId: string, templateVersion: number, audienceId: string, topic: string | null, category: string, holdoutPercent: number, sendAt: string | null, localTime: string | null, timeZone: string | null, status: string, startsAt: string | null, createdAt: string | null, finishedAt: string | null, progress: { enqueued: number, audienceSize: number, statuses: Array<{ name: string, count: number }>, skipped: Array<{ name: string, count: number }>, failed: Array<{ name: string, count: number }> } | null } | null };

export type CreateBroadcastMutationVariables = Exact<{
  input: CreateBroadcastInput;
}>;


export type CreateBroadcastMutation = { createBroadcast: { id: string, name: string, templateId: string, templateVersion: number, audienceId: string, topic: string | null, category: string, holdoutPercent: number, sendAt: string | null, localTime: string | null, timeZone: string | null, status: string, startsAt: string | null, createdAt: string | null, finishedAt: string | null } };

export type PauseBroadcastMutationVariables = Exact<{
  id: string;
}>;


export type PauseBroadcastMutation = { pauseBroadcast: { id: string, name: string, templateId: string, templateVersion: number, audienceId: string, topic: string | null, category: string, holdoutPercent: number, sendAt: string | null, localTime: string | null, timeZone: string | null, status: string, startsAt: string | null, createdAt: string | null, finishedAt: string | null, progress: { enqueued: number, audienceSize: number, statuses: Array<{ name: string, count: number }>, skipped: Array<{ name: string, count: number }>, failed: Array<{ name: string, count: number }> } | null } };

export type ResumeBroadcastMutationVariables = Exact<{
  id: string;
}>;


export type ResumeBroadcastMutation = { resumeBroadcast: { id: string, name: string, templateId: string, templateVersion: number, audienceId: string, topic: string | null, category: string, holdoutPercent: number, sendAt: string | null, localTime: string | null, timeZone: string | null, status: string, startsAt: string | null, createdAt: string | null, finishedAt: string | null, progress: { enqueued: number, audienceSize: number, statuses: Array<{ name: string, count: number }>, skipped: Array<{ name: string, count: number }>, failed: Array<{ name: string, count: number }> } | null } };

export type CancelBroadcastMutationVariables = Exact<{
  id: string;
}>;


export type CancelBroadcastMutation = { cancelBroadcast: { id: string, name: string, templateId: string, templateVersion: number, audienceId: string, topic: string | null, category: string, holdoutPercent: number, sendAt: string | null, localTime: string | null, timeZone: string | null, status: string, startsAt: string | null, createdAt: string | null, finishedAt: string | null, progress: { enqueued: number, audienceSize: number, statuses: Array<{ name: string, count: number }>, skipped: Array<{ name: string, count: number }>, failed: Array<{ name: string, count: number }> } | null } };

export type IdentifierFieldsFragment = { id: string, kind: string, value: string, linkedVia: string | null, seq: number, messageId: string };

export type ProfilesQueryVariables = Exact<{
  identifier?: string | null | undefined;
  trait?: string | null | undefined;
  value?: string | null | undefined;
  after?: string | null | undefined;
}>;


export type ProfilesQuery = { profiles: { nodes: Array<{ id: string, identifiers: Array<string>, traits: Json, firstSeen: string | null, lastSeen: string | null }>, pageInfo: { endCursor: string | null, hasNextPage: boolean } } };

export type ProfileQueryVariables = Exact<{
  id: string;
}>;


export type ProfileQuery = { profile: { id: string, traits: Json, firstSeen: string | null, lastSeen: string | null, timezone: string | null, locale: string | null, eventCounts: Json, totalEvents: number, computedTraits: Json, audienceIds: Array<string>, identifiers: Array<{ id: string, kind: string, value: string, linkedVia: string | null, seq: number, messageId: string }>, groups: Array<{ groupId: string, joinedAt: string, traits: Json }> } | null };

export type ProfileTimelineQueryVariables = Exact<{
  id: string;
  after?: string | null | undefined;
  event?: string | null | undefined;
  since?: string | null | undefined;
  until?: string | null | undefined;
}>;


export type ProfileTimelineQuery = { profile: { timeline: { nodes: Array<{ seq: number, json: Json }>, pageInfo: { endCursor: string | null, hasNextPage: boolean } } } | null };

export type ProfileIdentityGraphQueryVariables = Exact<{
  id: string;
}>;


export type ProfileIdentityGraphQuery = { profile: { identityGraph: { profileId: string, identifiers: Array<{ id: string, kind: string, value: string, linkedVia: string | null, seq: number, messageId: string }>, merges: Array<{ id: string, seq: number, messageId: string, eventType: string, winner: string, loser: string, link: Array<string>, winnerIdentifiers: Array<string>, loserIdentifiers: Array<string>, mergedAt: string, undone: boolean }>, refusedLinks: Array<{ seq: number, identifier: string, reason: string }> } } | null };

export type ProfileAudiencesQueryVariables = Exact<{
  id: string;
}>;


export type ProfileAudiencesQuery = { profile: { id: string, computedTraits: Json, memberships: Array<{ audienceId: string, member: boolean, reason: Json }> } | null };

export type ProfileMembershipHistoryQueryVariables = Exact<{
  id: string;
  limit?: number | null | undefined;
}>;


export type ProfileMembershipHistoryQuery = { profile: { membershipHistory: Array<{ audienceId: string, change: MembershipChangeKind, at: string | null, cause: Json }> } | null };

export type DeleteProfileMutationVariables = Exact<{
  id: string;
}>;


export type DeleteProfileMutation = { deleteProfile: { profiles: Array<string> } };

export type UndoMergeMutationVariables = Exact<{
  id: string;
}>;


export type UndoMergeMutation = { undoMerge: { profiles: Array<string> } };

export type AudienceFieldsFragment = { id: string, name: string, description: string | null, rule: Json, ruleText: string, size: number, ready: boolean, createdAt: string, updatedAt: string, backfill: { state: BackfillState, version: number, done: number, total: number, startedAt: string | null, finishedAt: string | null } };

export type AudiencesQueryVariables = Exact<{ [key: string]: never; }>;


export type AudiencesQuery = { audiences: Array<{ id: string, name: string, description: string | null, rule: Json, ruleText: string, size: number, ready: boolean, createdAt: string, updatedAt: string, backfill: { state: BackfillState, version: number, done: number, total: number, startedAt: string | null, finishedAt: string | null } }> };

export type AudienceQueryVariables = Exact<{
  id: string;
}>;


export type AudienceQuery = { audience: { id: string, name: string, description: string | null, rule: Json, ruleText: string, size: number, ready: boolean, createdAt: string, updatedAt: string, backfill: { state: BackfillState, version: number, done: number, total: number, startedAt: string | null, finishedAt: string | null } } | null };

export type CreateAudienceMutationVariables = Exact<{
  input: AudienceInput;
}>;


export type CreateAudienceMutation = { createAudience: { id: string, name: string, description: string | null, rule: Json, ruleText: string, size: number, ready: boolean, createdAt: string, updatedAt: string, backfill: { state: BackfillState, version: number, done: number, total: number, startedAt: string | null, finishedAt: string | null } } };

export type UpdateAudienceMutationVariables = Exact<{
  id: string;
  input: AudienceInput;
}>;


export type UpdateAudienceMutation = { updateAudience: { id: string, name: string, description: string | null, rule: Json, ruleText: string, size: number, ready: boolean, createdAt: string, updatedAt: string, backfill: { state: BackfillState, version: number, done: number, total: number, startedAt: string | null, finishedAt: string | null } } };

export type DeleteAudienceMutationVariables = Exact<{
  id: string;
}>;


export type DeleteAudienceMutation = { deleteAudience: string };

export type PreviewAudienceQueryVariables = Exact<{
  rule: Json;
}>;


export type PreviewAudienceQuery = { previewAudience: { estimatedSize: number, estimatedSizeLow: number, estimatedSizeHigh: number, confidence: number, sampled: number, matched: number, totalProfiles: number, seed: string, sampleMemberIds: Array<string>, ruleText: string } };

export type AudienceMembersQueryVariables = Exact<{
  id: string;
  after?: string | null | undefined;
}>;


export type AudienceMembersQuery = { audience: { members: { nodes: Array<{ profileId: string, enteredAt: string | null, profile: { identifiers: Array<string> } | null }>, pageInfo: { endCursor: string | null, hasNextPage: boolean } } } | null };

export type AudienceSizeHistoryQueryVariables = Exact<{
  id: string;
}>;


export type AudienceSizeHistoryQuery = { audience: { sizeHistory: Array<{ date: string, entered: number, exited: number, size: number }> } | null };

export type KeyFieldsFragment = { id: string, kind: KeyKind, name: string, prefix: string, createdAt: string, revokedAt: string | null };

export type CatalogQueryVariables = Exact<{ [key: string]: never; }>;


export type CatalogQuery = { catalog: { eventNames: Array<string>, propertyNames: Array<string>, traitNames: Array<string> } };

export type KeysQueryVariables = Exact<{ [key: string]: never; }>;


export type KeysQuery = { keys: Array<{ id: string, kind: KeyKind, name: string, prefix: string, createdAt: string, revokedAt: string | null }> };

export type CreateKeyMutationVariables = Exact<{
  kind: KeyKind;
  name: string;
}>;


export type CreateKeyMutation = { createKey: { secret: string, key: { id: string, kind: KeyKind, name: string, prefix: string, createdAt: string, revokedAt: string | null } } };

export type RevokeKeyMutationVariables = Exact<{
  id: string;
}>;


export type RevokeKeyMutation = { revokeKey: string };

export type StatusQueryVariables = Exact<{ [key: string]: never; }>;


export type StatusQuery = { status: { logHead: number, processed: number, lag: number, suppressedEvents: number, unattributableEvents: number, deletedEvents: number, quarantinedEvents: number, discardedEvents: number, storageFull: boolean, storageFullSince: string | null } };

export type LiveEventsSubscriptionVariables = Exact<{
  type?: string | null | undefined;
  event?: string | null | undefined;
}>;


export type LiveEventsSubscription = { events: { seq: number, json: Json } };

export type ProfileMessagesQueryVariables = Exact<{
  profile: string;
  before?: string | null | undefined;
}>;


export type ProfileMessagesQuery = { profileMessages: { next: string | null, nodes: Array<{ id: string, channel: string, templateId: string, templateVersion: number, category: string, transactional: boolean, status: string, reason: string | null, address: string | null, provider: string | null, error: string | null, createdAt: string | null, updatedAt: string | null }> } };

export type MessagesQueryVariables = Exact<{
  status?: string | null | undefined;
  channel?: string | null | undefined;
  source?: string | null | undefined;
  template?: string | null | undefined;
  before?: string | null | undefined;
}>;


export type MessagesQuery = { messages: { next: string | null, nodes: Array<{ id: string, profileId: string, source: string, channel: string, templateId: string, templateVersion: number, category: string, transactional: boolean, status: string, reason: string | null, address: string | null, provider: string | null, error: string | null, createdAt: string | null, updatedAt: string | null }> } };

export type MessageQueryVariables = Exact<{
  id: string;
}>;


export type MessageQuery = { messageEvents: Array<Json>, message: { id: string, profileId: string, source: string, channel: string, templateId: string, templateVersion: number, category: string, topic: string | null, priority: string, transactional: boolean, status: string, reason: string | null, address: string | null, decidedAt: string | null, attempts: number, provider: string | null, providerMessageId: string | null, error: string | null, createdAt: string | null, updatedAt: string | null } | null };

export type MessagingSettingsQueryVariables = Exact<{ [key: string]: never; }>;


export type MessagingSettingsQuery = { messagingSettings: Json };

export type UpdateMessagingSettingsMutationVariables = Exact<{
  change: Json;
}>;


export type UpdateMessagingSettingsMutation = { updateMessagingSettings: Json };

export type ProfileSubscriptionsQueryVariables = Exact<{
  profile: string;
}>;


export type ProfileSubscriptionsQuery = { profileSubscriptions: Array<{ channel: string, address: string, unsubscribed: boolean, suppressed: string | null, topics: Array<{ key: string, status: string, chosen: boolean }> }> };

export type ChangeSubscriptionsMutationVariables = Exact<{
  profile: string;
  input: ChangeSubscriptionsInput;
}>;


export type ChangeSubscriptionsMutation = { changeSubscriptions: { channel: string, address: string, unsubscribed: boolean, suppressed: string | null, topics: Array<{ key: string, status: string, chosen: boolean }> } };

export type AddressSuppressionsQueryVariables = Exact<{
  channel?: MessageChannel | null | undefined;
  after?: string | null | undefined;
}>;


export type AddressSuppressionsQuery = { addressSuppressions: { next: string | null, nodes: Array<{ channel: string, address: string, reason: string, messageId: string | null, createdAt: string | null }> } };

export type SuppressAddressMutationVariables = Exact<{
  input: SuppressAddressInput;
}>;


export type SuppressAddressMutation = { suppressAddress: { channel: string, address: string, reason: string, messageId: string | null, createdAt: string | null } };

export type UnsuppressAddressMutationVariables = Exact<{
  channel: MessageChannel;
  address: string;
}>;


export type UnsuppressAddressMutation = { unsuppressAddress: boolean };

export type TemplatesQueryVariables = Exact<{ [key: string]: never; }>;


export type TemplatesQuery = { templates: Array<{ id: string, name: string, channel: string, version: number, updatedAt: string }> };

export type TemplateFieldsFragment = { id: string, version: number, name: string, channel: string, content: Json, createdAt: string };

export type TemplateQueryVariables = Exact<{
  id: string;
  version?: number | null | undefined;
}>;


export type TemplateQuery = { template: { id: string, version: number, name: string, channel: string, content: Json, createdAt: string } | null };

export type TemplateVersionsQueryVariables = Exact<{
  id: string;
}>;


export type TemplateVersionsQuery = { templateVersions: Array<{ id: string, version: number, name: string, channel: string, content: Json, createdAt: string }> };

export type CreateTemplateMutationVariables = Exact<{
  input: TemplateInput;
}>;


export type CreateTemplateMutation = { createTemplate: { id: string, version: number, name: string, channel: string, content: Json, createdAt: string } };

export type UpdateTemplateMutationVariables = Exact<{
  id: string;
  input: TemplateInput;
}>;


export type UpdateTemplateMutation = { updateTemplate: { id: string, version: number, name: string, channel: string, content: Json, createdAt: string } };

export type DeleteTemplateMutationVariables = Exact<{
  id: string;
}>;


export type DeleteTemplateMutation = { deleteTemplate: string };

export type PreviewTemplateQueryVariables = Exact<{
  id: string;
  profile?: string | null | undefined;
  event?: Json | null | undefined;
  version?: number | null | undefined;
  content?: Json | null | undefined;
}>;


export type PreviewTemplateQuery = { previewTemplate: { version: number | null, format: string, parts: Json } };

export type PreviewDraftQueryVariables = Exact<{
  channel: string;
  content: Json;
  profile?: string | null | undefined;
  event?: Json | null | undefined;
}>;


export type PreviewDraftQuery = { previewDraft: { version: number | null, format: string, parts: Json } };

export type TestSendTemplateMutationVariables = Exact<{
  id: string;
  to?: string | null | undefined;
  profile?: string | null | undefined;
  event?: Json | null | undefined;
  version?: number | null | undefined;
}>;


export type TestSendTemplateMutation = { testSendTemplate: { channel: string, to: string, version: number, provider: string, providerMessageId: string | null } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const BroadcastFieldsFragmentDoc = new TypedDocumentString(`
    fragment BroadcastFields on Broadcast {
  id
  name
  templateId
  templateVersion
  audienceId
  topic
  category
  holdoutPercent
  sendAt
  localTime
  timeZone
  status
  startsAt
  createdAt
  finishedAt
}
    `, {"fragmentName":"BroadcastFields"}) as unknown as TypedDocumentString<BroadcastFieldsFragment, unknown>;
export const BroadcastProgressFieldsFragmentDoc = new TypedDocumentString(`
    fragment BroadcastProgressFields on Broadcast {
  progress {
    enqueued
    audienceSize
    statuses {
      name
      count
    }
    skipped {
      name
      count
    }
    failed {
      name
      count
    }
  }
}
    `, {"fragmentName":"BroadcastProgressFields"}) as unknown as TypedDocumentString<BroadcastProgressFieldsFragment, unknown>;
export const IdentifierFieldsFragmentDoc = new TypedDocumentString(`
    fragment IdentifierFields on Identifier {
  id
  kind
  value
  linkedVia
  seq
  messageId
}
    `, {"fragmentName":"IdentifierFields"}) as unknown as TypedDocumentString<IdentifierFieldsFragment, unknown>;
export const AudienceFieldsFragmentDoc = new TypedDocumentString(`
    fragment AudienceFields on Audience {
  id
  name
  description
  rule
  ruleText
  size
  ready
  backfill {
    state
    version
    done
    total
    startedAt
    finishedAt
  }
  createdAt
  updatedAt
}
    `, {"fragmentName":"AudienceFields"}) as unknown as TypedDocumentString<AudienceFieldsFragment, unknown>;
export const KeyFieldsFragmentDoc = new TypedDocumentString(`
    fragment KeyFields on ApiKey {
  id
  kind
  name
  prefix
  createdAt
  revokedAt
}
    `, {"fragmentName":"KeyFields"}) as unknown as TypedDocumentString<KeyFieldsFragment, unknown>;
export const TemplateFieldsFragmentDoc = new TypedDocumentString(`
    fragment TemplateFields on Template {
  id
  version
  name
  channel
  content
  createdAt
}
    `, {"fragmentName":"TemplateFields"}) as unknown as TypedDocumentString<TemplateFieldsFragment, unknown>;
export const BroadcastsDocument = new TypedDocumentString(`
    query Broadcasts {
  broadcasts(limit: 100) {
    nodes {
      ...BroadcastFields
    }
    next
  }
}
    fragment BroadcastFields on Broadcast {
  id
  name
  templateId
  templateVersion
  audienceId
  topic
  category
  holdoutPercent
  sendAt
  localTime
  timeZone
  status
  startsAt
  createdAt
  finishedAt
}`) as unknown as TypedDocumentString<BroadcastsQuery, BroadcastsQueryVariables>;
export const BroadcastDocument = new TypedDocumentString(`
    query Broadcast($id: String!) {
  broadcast(id: $id) {
    ...BroadcastFields
    ...BroadcastProgressFields
  }
}
    fragment BroadcastFields on Broadcast {
  id
  name
  templateId
  templateVersion
  audienceId
  topic
  category
  holdoutPercent
  sendAt
  localTime
  timeZone
  status
  startsAt
  createdAt
  finishedAt
}
fragment BroadcastProgressFields on Broadcast {
  progress {
    enqueued
    audienceSize
    statuses {
      name
      count
    }
    skipped {
      name
      count
    }
    failed {
      name
      count
    }
  }
}`) as unknown as TypedDocumentString<BroadcastQuery, BroadcastQueryVariables>;
export const CreateBroadcastDocument = new TypedDocumentString(`
    mutation CreateBroadcast($input: CreateBroadcastInput!) {
  createBroadcast(input: $input) {
    ...BroadcastFields
  }
}
    fragment BroadcastFields on Broadcast {
  id
  name
  templateId
  templateVersion
  audienceId
  topic
  category
  holdoutPercent
  sendAt
  localTime
  timeZone
  status
  startsAt
  createdAt
  finishedAt
}`) as unknown as TypedDocumentString<CreateBroadcastMutation, CreateBroadcastMutationVariables>;
export const PauseBroadcastDocument = new TypedDocumentString(`
    mutation PauseBroadcast($id: String!) {
  pauseBroadcast(id: $id) {
    ...BroadcastFields
    ...BroadcastProgressFields
  }
}
    fragment BroadcastFields on Broadcast {
  id
  name
  templateId
  templateVersion
  audienceId
  topic
  category
  holdoutPercent
  sendAt
  localTime
  timeZone
  status
  startsAt
  createdAt
  finishedAt
}
fragment BroadcastProgressFields on Broadcast {
  progress {
    enqueued
    audienceSize
    statuses {
      name
      count
    }
    skipped {
      name
      count
    }
    failed {
      name
      count
    }
  }
}`) as unknown as TypedDocumentString<PauseBroadcastMutation, PauseBroadcastMutationVariables>;
export const ResumeBroadcastDocument = new TypedDocumentString(`
    mutation ResumeBroadcast($id: String!) {
  resumeBroadcast(id: $id) {
    ...BroadcastFields
    ...BroadcastProgressFields
  }
}
    fragment BroadcastFields on Broadcast {
  id
  name
  templateId
  templateVersion
  audienceId
  topic
  category
  holdoutPercent
  sendAt
  localTime
  timeZone
  status
  startsAt
  createdAt
  finishedAt
}
fragment BroadcastProgressFields on Broadcast {
  progress {
    enqueued
    audienceSize
    statuses {
      name
      count
    }
    skipped {
      name
      count
    }
    failed {
      name
      count
    }
  }
}`) as unknown as TypedDocumentString<ResumeBroadcastMutation, ResumeBroadcastMutationVariables>;
export const CancelBroadcastDocument = new TypedDocumentString(`
    mutation CancelBroadcast($id: String!) {
  cancelBroadcast(id: $id) {
    ...BroadcastFields
    ...BroadcastProgressFields
  }
}
    fragment BroadcastFields on Broadcast {
  id
  name
  templateId
  templateVersion
  audienceId
  topic
  category
  holdoutPercent
  sendAt
  localTime
  timeZone
  status
  startsAt
  createdAt
  finishedAt
}
fragment BroadcastProgressFields on Broadcast {
  progress {
    enqueued
    audienceSize
    statuses {
      name
      count
    }
    skipped {
      name
      count
    }
    failed {
      name
      count
    }
  }
}`) as unknown as TypedDocumentString<CancelBroadcastMutation, CancelBroadcastMutationVariables>;
export const ProfilesDocument = new TypedDocumentString(`
    query Profiles($identifier: String, $trait: String, $value: String, $after: String) {
  profiles(
    identifier: $identifier
    trait: $trait
    value: $value
    first: 50
    after: $after
  ) {
    nodes {
      id
      identifiers
      traits
      firstSeen
      lastSeen
    }
    pageInfo {
      endCursor
      hasNextPage
    }
  }
}
    `) as unknown as TypedDocumentString<ProfilesQuery, ProfilesQueryVariables>;
export const ProfileDocument = new TypedDocumentString(`
    query Profile($id: String!) {
  profile(id: $id) {
    id
    traits
    identifiers {
      ...IdentifierFields
    }
    groups {
      groupId
      joinedAt
      traits
    }
    firstSeen
    lastSeen
    timezone
    locale
    eventCounts
    totalEvents
    computedTraits
    audienceIds
  }
}
    fragment IdentifierFields on Identifier {
  id
  kind
  value
  linkedVia
  seq
  messageId
}`) as unknown as TypedDocumentString<ProfileQuery, ProfileQueryVariables>;
export const ProfileTimelineDocument = new TypedDocumentString(`
    query ProfileTimeline($id: String!, $after: String, $event: String, $since: String, $until: String) {
  profile(id: $id) {
    timeline(first: 50, after: $after, event: $event, since: $since, until: $until) {
      nodes {
        seq
        json
      }
      pageInfo {
        endCursor
        hasNextPage
      }
    }
  }
}
    `) as unknown as TypedDocumentString<ProfileTimelineQuery, ProfileTimelineQueryVariables>;
export const ProfileIdentityGraphDocument = new TypedDocumentString(`
    query ProfileIdentityGraph($id: String!) {
  profile(id: $id) {
    identityGraph {
      profileId
      identifiers {
        ...IdentifierFields
      }
      merges {
        id
        seq
        messageId
        eventType
        winner
        loser
        link
        winnerIdentifiers
        loserIdentifiers
        mergedAt
        undone
      }
      refusedLinks {
        seq
        identifier
        reason
      }
    }
  }
}
    fragment IdentifierFields on Identifier {
  id
  kind
  value
  linkedVia
  seq
  messageId
}`) as unknown as TypedDocumentString<ProfileIdentityGraphQuery, ProfileIdentityGraphQueryVariables>;
export const ProfileAudiencesDocument = new TypedDocumentString(`
    query ProfileAudiences($id: String!) {
  profile(id: $id) {
    id
    computedTraits
    memberships {
      audienceId
      member
      reason
    }
  }
}
    `) as unknown as TypedDocumentString<ProfileAudiencesQuery, ProfileAudiencesQueryVariables>;
export const ProfileMembershipHistoryDocument = new TypedDocumentString(`
    query ProfileMembershipHistory($id: String!, $limit: Int) {
  profile(id: $id) {
    membershipHistory(limit: $limit) {
      audienceId
      change
      at
      cause
    }
  }
}
    `) as unknown as TypedDocumentString<ProfileMembershipHistoryQuery, ProfileMembershipHistoryQueryVariables>;
export const DeleteProfileDocument = new TypedDocumentString(`
    mutation DeleteProfile($id: String!) {
  deleteProfile(id: $id) {
    profiles
  }
}
    `) as unknown as TypedDocumentString<DeleteProfileMutation, DeleteProfileMutationVariables>;
export const UndoMergeDocument = new TypedDocumentString(`
    mutation UndoMerge($id: String!) {
  undoMerge(id: $id) {
    profiles
  }
}
    `) as unknown as TypedDocumentString<UndoMergeMutation, UndoMergeMutationVariables>;
export const AudiencesDocument = new TypedDocumentString(`
    query Audiences {
  audiences {
    ...AudienceFields
  }
}
    fragment AudienceFields on Audience {
  id
  name
  description
  rule
  ruleText
  size
  ready
  backfill {
    state
    version
    done
    total
    startedAt
    finishedAt
  }
  createdAt
  updatedAt
}`) as unknown as TypedDocumentString<AudiencesQuery, AudiencesQueryVariables>;
export const AudienceDocument = new TypedDocumentString(`
    query Audience($id: String!) {
  audience(id: $id) {
    ...AudienceFields
  }
}
    fragment AudienceFields on Audience {
  id
  name
  description
  rule
  ruleText
  size
  ready
  backfill {
    state
    version
    done
    total
    startedAt
    finishedAt
  }
  createdAt
  updatedAt
}`) as unknown as TypedDocumentString<AudienceQuery, AudienceQueryVariables>;
export const CreateAudienceDocument = new TypedDocumentString(`
    mutation CreateAudience($input: AudienceInput!) {
  createAudience(input: $input) {
    ...AudienceFields
  }
}
    fragment AudienceFields on Audience {
  id
  name
  description
  rule
  ruleText
  size
  ready
  backfill {
    state
    version
    done
    total
    startedAt
    finishedAt
  }
  createdAt
  updatedAt
}`) as unknown as TypedDocumentString<CreateAudienceMutation, CreateAudienceMutationVariables>;
export const UpdateAudienceDocument = new TypedDocumentString(`
    mutation UpdateAudience($id: String!, $input: AudienceInput!) {
  updateAudience(id: $id, input: $input) {
    ...AudienceFields
  }
}
    fragment AudienceFields on Audience {
  id
  name
  description
  rule
  ruleText
  size
  ready
  backfill {
    state
    version
    done
    total
    startedAt
    finishedAt
  }
  createdAt
  updatedAt
}`) as unknown as TypedDocumentString<UpdateAudienceMutation, UpdateAudienceMutationVariables>;
export const DeleteAudienceDocument = new TypedDocumentString(`
    mutation DeleteAudience($id: String!) {
  deleteAudience(id: $id)
}
    `) as unknown as TypedDocumentString<DeleteAudienceMutation, DeleteAudienceMutationVariables>;
export const PreviewAudienceDocument = new TypedDocumentString(`
    query PreviewAudience($rule: JSON!) {
  previewAudience(rule: $rule, sampleSize: 1000, seed: "1") {
    estimatedSize
    estimatedSizeLow
    estimatedSizeHigh
    confidence
    sampled
    matched
    totalProfiles
    seed
    sampleMemberIds
    ruleText
  }
}
    `) as unknown as TypedDocumentString<PreviewAudienceQuery, PreviewAudienceQueryVariables>;
export const AudienceMembersDocument = new TypedDocumentString(`
    query AudienceMembers($id: String!, $after: String) {
  audience(id: $id) {
    members(first: 50, after: $after) {
      nodes {
        profileId
        enteredAt
        profile {
          identifiers
        }
      }
      pageInfo {
        endCursor
        hasNextPage
      }
    }
  }
}
    `) as unknown as TypedDocumentString<AudienceMembersQuery, AudienceMembersQueryVariables>;
export const AudienceSizeHistoryDocument = new TypedDocumentString(`
    query AudienceSizeHistory($id: String!) {
  audience(id: $id) {
    sizeHistory {
      date
      entered
      exited
      size
    }
  }
}
    `) as unknown as TypedDocumentString<AudienceSizeHistoryQuery, AudienceSizeHistoryQueryVariables>;
export const CatalogDocument = new TypedDocumentString(`
    query Catalog {
  catalog {
    eventNames
    propertyNames
    traitNames
  }
}
    `) as unknown as TypedDocumentString<CatalogQuery, CatalogQueryVariables>;
export const KeysDocument = new TypedDocumentString(`
    query Keys {
  keys {
    ...KeyFields
  }
}
    fragment KeyFields on ApiKey {
  id
  kind
  name
  prefix
  createdAt
  revokedAt
}`) as unknown as TypedDocumentString<KeysQuery, KeysQueryVariables>;
export const CreateKeyDocument = new TypedDocumentString(`
    mutation CreateKey($kind: KeyKind!, $name: String!) {
  createKey(kind: $kind, name: $name) {
    key {
      ...KeyFields
    }
    secret
  }
}
    fragment KeyFields on ApiKey {
  id
  kind
  name
  prefix
  createdAt
  revokedAt
}`) as unknown as TypedDocumentString<CreateKeyMutation, CreateKeyMutationVariables>;
export const RevokeKeyDocument = new TypedDocumentString(`
    mutation RevokeKey($id: String!) {
  revokeKey(id: $id)
}
    `) as unknown as TypedDocumentString<RevokeKeyMutation, RevokeKeyMutationVariables>;
export const StatusDocument = new TypedDocumentString(`
    query Status {
  status {
    logHead
    processed
    lag
    suppressedEvents
    unattributableEvents
    deletedEvents
    quarantinedEvents
    discardedEvents
    storageFull
    storageFullSince
  }
}
    `) as unknown as TypedDocumentString<StatusQuery, StatusQueryVariables>;
export const LiveEventsDocument = new TypedDocumentString(`
    subscription LiveEvents($type: String, $event: String) {
  events(type: $type, event: $event) {
    seq
    json
  }
}
    `) as unknown as TypedDocumentString<LiveEventsSubscription, LiveEventsSubscriptionVariables>;
export const ProfileMessagesDocument = new TypedDocumentString(`
    query ProfileMessages($profile: String!, $before: String) {
  profileMessages(profile: $profile, limit: 20, before: $before) {
    nodes {
      id
      channel
      templateId
      templateVersion
      category
      transactional
      status
      reason
      address
      provider
      error
      createdAt
      updatedAt
    }
    next
  }
}
    `) as unknown as TypedDocumentString<ProfileMessagesQuery, ProfileMessagesQueryVariables>;
export const MessagesDocument = new TypedDocumentString(`
    query Messages($status: String, $channel: String, $source: String, $template: String, $before: String) {
  messages(
    status: $status
    channel: $channel
    source: $source
    template: $template
    limit: 50
    before: $before
  ) {
    nodes {
      id
      profileId
      source
      channel
      templateId
      templateVersion
      category
      transactional
      status
      reason
      address
      provider
      error
      createdAt
      updatedAt
    }
    next
  }
}
    `) as unknown as TypedDocumentString<MessagesQuery, MessagesQueryVariables>;
export const MessageDocument = new TypedDocumentString(`
    query Message($id: String!) {
  message(id: $id) {
    id
    profileId
    source
    channel
    templateId
    templateVersion
    category
    topic
    priority
    transactional
    status
    reason
    address
    decidedAt
    attempts
    provider
    providerMessageId
    error
    createdAt
    updatedAt
  }
  messageEvents(id: $id)
}
    `) as unknown as TypedDocumentString<MessageQuery, MessageQueryVariables>;
export const MessagingSettingsDocument = new TypedDocumentString(`
    query MessagingSettings {
  messagingSettings
}
    `) as unknown as TypedDocumentString<MessagingSettingsQuery, MessagingSettingsQueryVariables>;
export const UpdateMessagingSettingsDocument = new TypedDocumentString(`
    mutation UpdateMessagingSettings($change: JSON!) {
  updateMessagingSettings(change: $change)
}
    `) as unknown as TypedDocumentString<UpdateMessagingSettingsMutation, UpdateMessagingSettingsMutationVariables>;
export const ProfileSubscriptionsDocument = new TypedDocumentString(`
    query ProfileSubscriptions($profile: String!) {
  profileSubscriptions(profile: $profile) {
    channel
    address
    unsubscribed
    suppressed
    topics {
      key
      status
      chosen
    }
  }
}
    `) as unknown as TypedDocumentString<ProfileSubscriptionsQuery, ProfileSubscriptionsQueryVariables>;
export const ChangeSubscriptionsDocument = new TypedDocumentString(`
    mutation ChangeSubscriptions($profile: String!, $input: ChangeSubscriptionsInput!) {
  changeSubscriptions(profile: $profile, input: $input) {
    channel
    address
    unsubscribed
    suppressed
    topics {
      key
      status
      chosen
    }
  }
}
    `) as unknown as TypedDocumentString<ChangeSubscriptionsMutation, ChangeSubscriptionsMutationVariables>;
export const AddressSuppressionsDocument = new TypedDocumentString(`
    query AddressSuppressions($channel: MessageChannel, $after: String) {
  addressSuppressions(channel: $channel, after: $after, limit: 100) {
    nodes {
      channel
      address
      reason
      messageId
      createdAt
    }
    next
  }
}
    `) as unknown as TypedDocumentString<AddressSuppressionsQuery, AddressSuppressionsQueryVariables>;
export const SuppressAddressDocument = new TypedDocumentString(`
    mutation SuppressAddress($input: SuppressAddressInput!) {
  suppressAddress(input: $input) {
    channel
    address
    reason
    messageId
    createdAt
  }
}
    `) as unknown as TypedDocumentString<SuppressAddressMutation, SuppressAddressMutationVariables>;
export const UnsuppressAddressDocument = new TypedDocumentString(`
    mutation UnsuppressAddress($channel: MessageChannel!, $address: String!) {
  unsuppressAddress(channel: $channel, address: $address)
}
    `) as unknown as TypedDocumentString<UnsuppressAddressMutation, UnsuppressAddressMutationVariables>;
export const TemplatesDocument = new TypedDocumentString(`
    query Templates {
  templates {
    id
    name
    channel
    version
    updatedAt
  }
}
    `) as unknown as TypedDocumentString<TemplatesQuery, TemplatesQueryVariables>;
export const TemplateDocument = new TypedDocumentString(`
    query Template($id: String!, $version: Int) {
  template(id: $id, version: $version) {
    ...TemplateFields
  }
}
    fragment TemplateFields on Template {
  id
  version
  name
  channel
  content
  createdAt
}`) as unknown as TypedDocumentString<TemplateQuery, TemplateQueryVariables>;
export const TemplateVersionsDocument = new TypedDocumentString(`
    query TemplateVersions($id: String!) {
  templateVersions(id: $id) {
    ...TemplateFields
  }
}
    fragment TemplateFields on Template {
  id
  version
  name
  channel
  content
  createdAt
}`) as unknown as TypedDocumentString<TemplateVersionsQuery, TemplateVersionsQueryVariables>;
export const CreateTemplateDocument = new TypedDocumentString(`
    mutation CreateTemplate($input: TemplateInput!) {
  createTemplate(input: $input) {
    ...TemplateFields
  }
}
    fragment TemplateFields on Template {
  id
  version
  name
  channel
  content
  createdAt
}`) as unknown as TypedDocumentString<CreateTemplateMutation, CreateTemplateMutationVariables>;
export const UpdateTemplateDocument = new TypedDocumentString(`
    mutation UpdateTemplate($id: String!, $input: TemplateInput!) {
  updateTemplate(id: $id, input: $input) {
    ...TemplateFields
  }
}
    fragment TemplateFields on Template {
  id
  version
  name
  channel
  content
  createdAt
}`) as unknown as TypedDocumentString<UpdateTemplateMutation, UpdateTemplateMutationVariables>;
export const DeleteTemplateDocument = new TypedDocumentString(`
    mutation DeleteTemplate($id: String!) {
  deleteTemplate(id: $id)
}
    `) as unknown as TypedDocumentString<DeleteTemplateMutation, DeleteTemplateMutationVariables>;
export const PreviewTemplateDocument = new TypedDocumentString(`
    query PreviewTemplate($id: String!, $profile: String, $event: JSON, $version: Int, $content: JSON) {
  previewTemplate(
    id: $id
    profile: $profile
    event: $event
    version: $version
    content: $content
  ) {
    version
    format
    parts
  }
}
    `) as unknown as TypedDocumentString<PreviewTemplateQuery, PreviewTemplateQueryVariables>;
export const PreviewDraftDocument = new TypedDocumentString(`
    query PreviewDraft($channel: String!, $content: JSON!, $profile: String, $event: JSON) {
  previewDraft(
    channel: $channel
    content: $content
    profile: $profile
    event: $event
  ) {
    version
    format
    parts
  }
}
    `) as unknown as TypedDocumentString<PreviewDraftQuery, PreviewDraftQueryVariables>;
export const TestSendTemplateDocument = new TypedDocumentString(`
    mutation TestSendTemplate($id: String!, $to: String, $profile: String, $event: JSON, $version: Int) {
  testSendTemplate(
    id: $id
    to: $to
    profile: $profile
    event: $event
    version: $version
  ) {
    channel
    to
    version
    provider
    providerMessageId
  }
}
    `) as unknown as TypedDocumentString<TestSendTemplateMutation, TestSendTemplateMutationVariables>;