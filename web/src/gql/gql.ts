/* eslint-disable */
import * as types from './graphql';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  fragment IdentifierFields on Identifier {\n    id kind value linkedVia seq messageId\n  }\n": typeof types.IdentifierFieldsFragmentDoc,
    "\n  query Profiles($identifier: String, $trait: String, $value: String, $after: String) {\n    profiles(identifier: $identifier, trait: $trait, value: $value, first: 50, after: $after) {\n      nodes { id identifiers traits firstSeen lastSeen }\n      pageInfo { endCursor hasNextPage }\n    }\n  }\n": typeof types.ProfilesDocument,
    "\n  query Profile($id: String!) {\n    profile(id: $id) {\n      id traits identifiers { ...IdentifierFields } groups { groupId joinedAt traits }\n      firstSeen lastSeen timezone locale eventCounts totalEvents computedTraits audienceIds\n    }\n  }\n": typeof types.ProfileDocument,
    "\n  query ProfileTimeline($id: String!, $after: String, $event: String, $since: String, $until: String) {\n    profile(id: $id) {\n      timeline(first: 50, after: $after, event: $event, since: $since, until: $until) {\n        nodes { seq json }\n        pageInfo { endCursor hasNextPage }\n      }\n    }\n  }\n": typeof types.ProfileTimelineDocument,
    "\n  query ProfileIdentityGraph($id: String!) {\n    profile(id: $id) {\n      identityGraph {\n        profileId\n        identifiers { ...IdentifierFields }\n        merges { id seq messageId eventType winner loser link winnerIdentifiers loserIdentifiers mergedAt undone }\n        refusedLinks { seq identifier reason }\n      }\n    }\n  }\n": typeof types.ProfileIdentityGraphDocument,
    "\n  query ProfileAudiences($id: String!) {\n    profile(id: $id) { id computedTraits memberships { audienceId member reason } }\n  }\n": typeof types.ProfileAudiencesDocument,
    "\n  query ProfileMembershipHistory($id: String!, $limit: Int) {\n    profile(id: $id) { membershipHistory(limit: $limit) { audienceId change at cause } }\n  }\n": typeof types.ProfileMembershipHistoryDocument,
    "\n  mutation DeleteProfile($id: String!) {\n    deleteProfile(id: $id) { profiles }\n  }\n": typeof types.DeleteProfileDocument,
    "\n  mutation UndoMerge($id: String!) {\n    undoMerge(id: $id) { profiles }\n  }\n": typeof types.UndoMergeDocument,
    "\n  fragment AudienceFields on Audience {\n    id name description rule ruleText size ready\n    backfill { state version done total startedAt finishedAt }\n    createdAt updatedAt\n  }\n": typeof types.AudienceFieldsFragmentDoc,
    "\n  query Audiences {\n    audiences { ...AudienceFields }\n  }\n": typeof types.AudiencesDocument,
    "\n  query Audience($id: String!) {\n    audience(id: $id) { ...AudienceFields }\n  }\n": typeof types.AudienceDocument,
    "\n  mutation CreateAudience($input: AudienceInput!) {\n    createAudience(input: $input) { ...AudienceFields }\n  }\n": typeof types.CreateAudienceDocument,
    "\n  mutation UpdateAudience($id: String!, $input: AudienceInput!) {\n    updateAudience(id: $id, input: $input) { ...AudienceFields }\n  }\n": typeof types.UpdateAudienceDocument,
    "\n  mutation DeleteAudience($id: String!) {\n    deleteAudience(id: $id)\n  }\n": typeof types.DeleteAudienceDocument,
    "\n  query PreviewAudience($rule: JSON!) {\n    previewAudience(rule: $rule, sampleSize: 1000, seed: \"1\") {\n      estimatedSize estimatedSizeLow estimatedSizeHigh confidence sampled matched totalProfiles seed sampleMemberIds ruleText\n    }\n  }\n": typeof types.PreviewAudienceDocument,
    "\n  query AudienceMembers($id: String!, $after: String) {\n    audience(id: $id) {\n      members(first: 50, after: $after) {\n        nodes { profileId enteredAt profile { identifiers } }\n        pageInfo { endCursor hasNextPage }\n      }\n    }\n  }\n": typeof types.AudienceMembersDocument,
    "\n  query AudienceSizeHistory($id: String!) {\n    audience(id: $id) { sizeHistory { date entered exited size } }\n  }\n": typeof types.AudienceSizeHistoryDocument,
    "\n  fragment KeyFields on ApiKey {\n    id kind name prefix createdAt revokedAt\n  }\n": typeof types.KeyFieldsFragmentDoc,
    "\n  query Catalog {\n    catalog { eventNames propertyNames traitNames }\n  }\n": typeof types.CatalogDocument,
    "\n  query Keys {\n    keys { ...KeyFields }\n  }\n": typeof types.KeysDocument,
    "\n  mutation CreateKey($kind: KeyKind!, $name: String!) {\n    createKey(kind: $kind, name: $name) { key { ...KeyFields } secret }\n  }\n": typeof types.CreateKeyDocument,
    "\n  mutation RevokeKey($id: String!) {\n    revokeKey(id: $id)\n  }\n": typeof types.RevokeKeyDocument,
    "\n  query Status {\n    status {\n      logHead processed lag suppressedEvents unattributableEvents deletedEvents quarantinedEvents discardedEvents\n      storageFull storageFullSince\n    }\n  }\n": typeof types.StatusDocument,
    "\n  subscription LiveEvents($type: String, $event: String) {\n    events(type: $type, event: $event) { seq json }\n  }\n": typeof types.LiveEventsDocument,
};
const documents: Documents = {
    "\n  fragment IdentifierFields on Identifier {\n    id kind value linkedVia seq messageId\n  }\n": types.IdentifierFieldsFragmentDoc,
    "\n  query Profiles($identifier: String, $trait: String, $value: String, $after: String) {\n    profiles(identifier: $identifier, trait: $trait, value: $value, first: 50, after: $after) {\n      nodes { id identifiers traits firstSeen lastSeen }\n      pageInfo { endCursor hasNextPage }\n    }\n  }\n": types.ProfilesDocument,
    "\n  query Profile($id: String!) {\n    profile(id: $id) {\n      id traits identifiers { ...IdentifierFields } groups { groupId joinedAt traits }\n      firstSeen lastSeen timezone locale eventCounts totalEvents computedTraits audienceIds\n    }\n  }\n": types.ProfileDocument,
    "\n  query ProfileTimeline($id: String!, $after: String, $event: String, $since: String, $until: String) {\n    profile(id: $id) {\n      timeline(first: 50, after: $after, event: $event, since: $since, until: $until) {\n        nodes { seq json }\n        pageInfo { endCursor hasNextPage }\n      }\n    }\n  }\n": types.ProfileTimelineDocument,
    "\n  query ProfileIdentityGraph($id: String!) {\n    profile(id: $id) {\n      identityGraph {\n        profileId\n        identifiers { ...IdentifierFields }\n        merges { id seq messageId eventType winner loser link winnerIdentifiers loserIdentifiers mergedAt undone }\n        refusedLinks { seq identifier reason }\n      }\n    }\n  }\n": types.ProfileIdentityGraphDocument,
    "\n  query ProfileAudiences($id: String!) {\n    profile(id: $id) { id computedTraits memberships { audienceId member reason } }\n  }\n": types.ProfileAudiencesDocument,
    "\n  query ProfileMembershipHistory($id: String!, $limit: Int) {\n    profile(id: $id) { membershipHistory(limit: $limit) { audienceId change at cause } }\n  }\n": types.ProfileMembershipHistoryDocument,
    "\n  mutation DeleteProfile($id: String!) {\n    deleteProfile(id: $id) { profiles }\n  }\n": types.DeleteProfileDocument,
    "\n  mutation UndoMerge($id: String!) {\n    undoMerge(id: $id) { profiles }\n  }\n": types.UndoMergeDocument,
    "\n  fragment AudienceFields on Audience {\n    id name description rule ruleText size ready\n    backfill { state version done total startedAt finishedAt }\n    createdAt updatedAt\n  }\n": types.AudienceFieldsFragmentDoc,
    "\n  query Audiences {\n    audiences { ...AudienceFields }\n  }\n": types.AudiencesDocument,
    "\n  query Audience($id: String!) {\n    audience(id: $id) { ...AudienceFields }\n  }\n": types.AudienceDocument,
    "\n  mutation CreateAudience($input: AudienceInput!) {\n    createAudience(input: $input) { ...AudienceFields }\n  }\n": types.CreateAudienceDocument,
    "\n  mutation UpdateAudience($id: String!, $input: AudienceInput!) {\n    updateAudience(id: $id, input: $input) { ...AudienceFields }\n  }\n": types.UpdateAudienceDocument,
    "\n  mutation DeleteAudience($id: String!) {\n    deleteAudience(id: $id)\n  }\n": types.DeleteAudienceDocument,
    "\n  query PreviewAudience($rule: JSON!) {\n    previewAudience(rule: $rule, sampleSize: 1000, seed: \"1\") {\n      estimatedSize estimatedSizeLow estimatedSizeHigh confidence sampled matched totalProfiles seed sampleMemberIds ruleText\n    }\n  }\n": types.PreviewAudienceDocument,
    "\n  query AudienceMembers($id: String!, $after: String) {\n    audience(id: $id) {\n      members(first: 50, after: $after) {\n        nodes { profileId enteredAt profile { identifiers } }\n        pageInfo { endCursor hasNextPage }\n      }\n    }\n  }\n": types.AudienceMembersDocument,
    "\n  query AudienceSizeHistory($id: String!) {\n    audience(id: $id) { sizeHistory { date entered exited size } }\n  }\n": types.AudienceSizeHistoryDocument,
    "\n  fragment KeyFields on ApiKey {\n    id kind name prefix createdAt revokedAt\n  }\n": types.KeyFieldsFragmentDoc,
    "\n  query Catalog {\n    catalog { eventNames propertyNames traitNames }\n  }\n": types.CatalogDocument,
    "\n  query Keys {\n    keys { ...KeyFields }\n  }\n": types.KeysDocument,
    "\n  mutation CreateKey($kind: KeyKind!, $name: String!) {\n    createKey(kind: $kind, name: $name) { key { ...KeyFields } secret }\n  }\n": types.CreateKeyDocument,
    "\n  mutation RevokeKey($id: String!) {\n    revokeKey(id: $id)\n  }\n": types.RevokeKeyDocument,
    "\n  query Status {\n    status {\n      logHead processed lag suppressedEvents unattributableEvents deletedEvents quarantinedEvents discardedEvents\n      storageFull storageFullSince\n    }\n  }\n": types.StatusDocument,
    "\n  subscription LiveEvents($type: String, $event: String) {\n    events(type: $type, event: $event) { seq json }\n  }\n": types.LiveEventsDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment IdentifierFields on Identifier {\n    id kind value linkedVia seq messageId\n  }\n"): typeof import('./graphql').IdentifierFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Profiles($identifier: String, $trait: String, $value: String, $after: String) {\n    profiles(identifier: $identifier, trait: $trait, value: $value, first: 50, after: $after) {\n      nodes { id identifiers traits firstSeen lastSeen }\n      pageInfo { endCursor hasNextPage }\n    }\n  }\n"): typeof import('./graphql').ProfilesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Profile($id: String!) {\n    profile(id: $id) {\n      id traits identifiers { ...IdentifierFields } groups { groupId joinedAt traits }\n      firstSeen lastSeen timezone locale eventCounts totalEvents computedTraits audienceIds\n    }\n  }\n"): typeof import('./graphql').ProfileDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ProfileTimeline($id: String!, $after: String, $event: String, $since: String, $until: String) {\n    profile(id: $id) {\n      timeline(first: 50, after: $after, event: $event, since: $since, until: $until) {\n        nodes { seq json }\n        pageInfo { endCursor hasNextPage }\n      }\n    }\n  }\n"): typeof import('./graphql').ProfileTimelineDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ProfileIdentityGraph($id: String!) {\n    profile(id: $id) {\n      identityGraph {\n        profileId\n        identifiers { ...IdentifierFields }\n        merges { id seq messageId eventType winner loser link winnerIdentifiers loserIdentifiers mergedAt undone }\n        refusedLinks { seq identifier reason }\n      }\n    }\n  }\n"): typeof import('./graphql').ProfileIdentityGraphDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ProfileAudiences($id: String!) {\n    profile(id: $id) { id computedTraits memberships { audienceId member reason } }\n  }\n"): typeof import('./graphql').ProfileAudiencesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ProfileMembershipHistory($id: String!, $limit: Int) {\n    profile(id: $id) { membershipHistory(limit: $limit) { audienceId change at cause } }\n  }\n"): typeof import('./graphql').ProfileMembershipHistoryDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteProfile($id: String!) {\n    deleteProfile(id: $id) { profiles }\n  }\n"): typeof import('./graphql').DeleteProfileDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UndoMerge($id: String!) {\n    undoMerge(id: $id) { profiles }\n  }\n"): typeof import('./graphql').UndoMergeDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment AudienceFields on Audience {\n    id name description rule ruleText size ready\n    backfill { state version done total startedAt finishedAt }\n    createdAt updatedAt\n  }\n"): typeof import('./graphql').AudienceFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Audiences {\n    audiences { ...AudienceFields }\n  }\n"): typeof import('./graphql').AudiencesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Audience($id: String!) {\n    audience(id: $id) { ...AudienceFields }\n  }\n"): typeof import('./graphql').AudienceDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateAudience($input: AudienceInput!) {\n    createAudience(input: $input) { ...AudienceFields }\n  }\n"): typeof import('./graphql').CreateAudienceDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateAudience($id: String!, $input: AudienceInput!) {\n    updateAudience(id: $id, input: $input) { ...AudienceFields }\n  }\n"): typeof import('./graphql').UpdateAudienceDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteAudience($id: String!) {\n    deleteAudience(id: $id)\n  }\n"): typeof import('./graphql').DeleteAudienceDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PreviewAudience($rule: JSON!) {\n    previewAudience(rule: $rule, sampleSize: 1000, seed: \"1\") {\n      estimatedSize estimatedSizeLow estimatedSizeHigh confidence sampled matched totalProfiles seed sampleMemberIds ruleText\n    }\n  }\n"): typeof import('./graphql').PreviewAudienceDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AudienceMembers($id: String!, $after: String) {\n    audience(id: $id) {\n      members(first: 50, after: $after) {\n        nodes { profileId enteredAt profile { identifiers } }\n        pageInfo { endCursor hasNextPage }\n      }\n    }\n  }\n"): typeof import('./graphql').AudienceMembersDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AudienceSizeHistory($id: String!) {\n    audience(id: $id) { sizeHistory { date entered exited size } }\n  }\n"): typeof import('./graphql').AudienceSizeHistoryDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment KeyFields on ApiKey {\n    id kind name prefix createdAt revokedAt\n  }\n"): typeof import('./graphql').KeyFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Catalog {\n    catalog { eventNames propertyNames traitNames }\n  }\n"): typeof import('./graphql').CatalogDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Keys {\n    keys { ...KeyFields }\n  }\n"): typeof import('./graphql').KeysDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateKey($kind: KeyKind!, $name: String!) {\n    createKey(kind: $kind, name: $name) { key { ...KeyFields } secret }\n  }\n"): typeof import('./graphql').CreateKeyDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RevokeKey($id: String!) {\n    revokeKey(id: $id)\n  }\n"): typeof import('./graphql').RevokeKeyDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Status {\n    status {\n      logHead processed lag suppressedEvents unattributableEvents deletedEvents quarantinedEvents discardedEvents\n      storageFull storageFullSince\n    }\n  }\n"): typeof import('./graphql').StatusDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription LiveEvents($type: String, $event: String) {\n    events(type: $type, event: $event) { seq json }\n  }\n"): typeof import('./graphql').LiveEventsDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
