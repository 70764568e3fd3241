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
    "\n  fragment BroadcastFields on Broadcast {\n    id name templateId templateVersion audienceId topic category holdoutPercent sendAt localTime timeZone\n    status startsAt createdAt finishedAt\n  }\n": typeof types.BroadcastFieldsFragmentDoc,
    "\n  fragment BroadcastProgressFields on Broadcast {\n    progress {\n      enqueued audienceSize\n      statuses { name count }\n      skipped { name count }\n      failed { name count }\n    }\n  }\n": typeof types.BroadcastProgressFieldsFragmentDoc,
    "\n  query Broadcasts {\n    broadcasts(limit: 100) { nodes { ...BroadcastFields } next }\n  }\n": typeof types.BroadcastsDocument,
    "\n  query Broadcast($id: String!) {\n    broadcast(id: $id) { ...BroadcastFields ...BroadcastProgressFields }\n  }\n": typeof types.BroadcastDocument,
    "\n  mutation CreateBroadcast($input: CreateBroadcastInput!) {\n    createBroadcast(input: $input) { ...BroadcastFields }\n  }\n": typeof types.CreateBroadcastDocument,
    "\n  mutation PauseBroadcast($id: String!) {\n    pauseBroadcast(id: $id) { ...BroadcastFields ...BroadcastProgressFields }\n  }\n": typeof types.PauseBroadcastDocument,
    "\n  mutation ResumeBroadcast($id: String!) {\n    resumeBroadcast(id: $id) { ...BroadcastFields ...BroadcastProgressFields }\n  }\n": typeof types.ResumeBroadcastDocument,
    "\n  mutation CancelBroadcast($id: String!) {\n    cancelBroadcast(id: $id) { ...BroadcastFields ...BroadcastProgressFields }\n  }\n": typeof types.CancelBroadcastDocument,
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
    "\n  query ProfileMessages($profile: String!, $before: String) {\n    profileMessages(profile: $profile, limit: 20, before: $before) {\n      nodes {\n        id channel templateId templateVersion category transactional status reason address provider error createdAt updatedAt\n      }\n      next\n    }\n  }\n": typeof types.ProfileMessagesDocument,
    "\n  query Messages($status: String, $channel: String, $source: String, $template: String, $before: String) {\n    messages(status: $status, channel: $channel, source: $source, template: $template, limit: 50, before: $before) {\n      nodes {\n        id profileId source channel templateId templateVersion category transactional status reason address provider error createdAt updatedAt\n      }\n      next\n    }\n  }\n": typeof types.MessagesDocument,
    "\n  query Message($id: String!) {\n    message(id: $id) {\n      id profileId source channel templateId templateVersion category topic priority transactional status reason address\n      decidedAt attempts provider providerMessageId error createdAt updatedAt\n    }\n    messageEvents(id: $id)\n  }\n": typeof types.MessageDocument,
    "\n  query MessagingSettings {\n    messagingSettings\n  }\n": typeof types.MessagingSettingsDocument,
    "\n  mutation UpdateMessagingSettings($change: JSON!) {\n    updateMessagingSettings(change: $change)\n  }\n": typeof types.UpdateMessagingSettingsDocument,
    "\n  query ProfileSubscriptions($profile: String!) {\n    profileSubscriptions(profile: $profile) { channel address unsubscribed suppressed topics { key status chosen } }\n  }\n": typeof types.ProfileSubscriptionsDocument,
    "\n  mutation ChangeSubscriptions($profile: String!, $input: ChangeSubscriptionsInput!) {\n    changeSubscriptions(profile: $profile, input: $input) { channel address unsubscribed suppressed topics { key status chosen } }\n  }\n": typeof types.ChangeSubscriptionsDocument,
    "\n  query AddressSuppressions($channel: MessageChannel, $after: String) {\n    addressSuppressions(channel: $channel, after: $after, limit: 100) { nodes { channel address reason messageId createdAt } next }\n  }\n": typeof types.AddressSuppressionsDocument,
    "\n  mutation SuppressAddress($input: SuppressAddressInput!) {\n    suppressAddress(input: $input) { channel address reason messageId createdAt }\n  }\n": typeof types.SuppressAddressDocument,
    "\n  mutation UnsuppressAddress($channel: MessageChannel!, $address: String!) {\n    unsuppressAddress(channel: $channel, address: $address)\n  }\n": typeof types.UnsuppressAddressDocument,
    "\n  query Templates {\n    templates { id name channel version updatedAt }\n  }\n": typeof types.TemplatesDocument,
    "\n  fragment TemplateFields on Template {\n    id version name channel content createdAt\n  }\n": typeof types.TemplateFieldsFragmentDoc,
    "\n  query Template($id: String!, $version: Int) {\n    template(id: $id, version: $version) { ...TemplateFields }\n  }\n": typeof types.TemplateDocument,
    "\n  query TemplateVersions($id: String!) {\n    templateVersions(id: $id) { ...TemplateFields }\n  }\n": typeof types.TemplateVersionsDocument,
    "\n  mutation CreateTemplate($input: TemplateInput!) {\n    createTemplate(input: $input) { ...TemplateFields }\n  }\n": typeof types.CreateTemplateDocument,
    "\n  mutation UpdateTemplate($id: String!, $input: TemplateInput!) {\n    updateTemplate(id: $id, input: $input) { ...TemplateFields }\n  }\n": typeof types.UpdateTemplateDocument,
    "\n  mutation DeleteTemplate($id: String!) {\n    deleteTemplate(id: $id)\n  }\n": typeof types.DeleteTemplateDocument,
    "\n  query PreviewTemplate($id: String!, $profile: String, $event: JSON, $version: Int, $content: JSON) {\n    previewTemplate(id: $id, profile: $profile, event: $event, version: $version, content: $content) { version format parts }\n  }\n": typeof types.PreviewTemplateDocument,
    "\n  query PreviewDraft($channel: String!, $content: JSON!, $profile: String, $event: JSON) {\n    previewDraft(channel: $channel, content: $content, profile: $profile, event: $event) { version format parts }\n  }\n": typeof types.PreviewDraftDocument,
    "\n  mutation TestSendTemplate($id: String!, $to: String, $profile: String, $event: JSON, $version: Int) {\n    testSendTemplate(id: $id, to: $to, profile: $profile, event: $event, version: $version) { channel to version provider providerMessageId }\n  }\n": typeof types.TestSendTemplateDocument,
};
const documents: Documents = {
    "\n  fragment BroadcastFields on Broadcast {\n    id name templateId templateVersion audienceId topic category holdoutPercent sendAt localTime timeZone\n    status startsAt createdAt finishedAt\n  }\n": types.BroadcastFieldsFragmentDoc,
    "\n  fragment BroadcastProgressFields on Broadcast {\n    progress {\n      enqueued audienceSize\n      statuses { name count }\n      skipped { name count }\n      failed { name count }\n    }\n  }\n": types.BroadcastProgressFieldsFragmentDoc,
    "\n  query Broadcasts {\n    broadcasts(limit: 100) { nodes { ...BroadcastFields } next }\n  }\n": types.BroadcastsDocument,
    "\n  query Broadcast($id: String!) {\n    broadcast(id: $id) { ...BroadcastFields ...BroadcastProgressFields }\n  }\n": types.BroadcastDocument,
    "\n  mutation CreateBroadcast($input: CreateBroadcastInput!) {\n    createBroadcast(input: $input) { ...BroadcastFields }\n  }\n": types.CreateBroadcastDocument,
    "\n  mutation PauseBroadcast($id: String!) {\n    pauseBroadcast(id: $id) { ...BroadcastFields ...BroadcastProgressFields }\n  }\n": types.PauseBroadcastDocument,
    "\n  mutation ResumeBroadcast($id: String!) {\n    resumeBroadcast(id: $id) { ...BroadcastFields ...BroadcastProgressFields }\n  }\n": types.ResumeBroadcastDocument,
    "\n  mutation CancelBroadcast($id: String!) {\n    cancelBroadcast(id: $id) { ...BroadcastFields ...BroadcastProgressFields }\n  }\n": types.CancelBroadcastDocument,
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
    "\n  query ProfileMessages($profile: String!, $before: String) {\n    profileMessages(profile: $profile, limit: 20, before: $before) {\n      nodes {\n        id channel templateId templateVersion category transactional status reason address provider error createdAt updatedAt\n      }\n      next\n    }\n  }\n": types.ProfileMessagesDocument,
    "\n  query Messages($status: String, $channel: String, $source: String, $template: String, $before: String) {\n    messages(status: $status, channel: $channel, source: $source, template: $template, limit: 50, before: $before) {\n      nodes {\n        id profileId source channel templateId templateVersion category transactional status reason address provider error createdAt updatedAt\n      }\n      next\n    }\n  }\n": types.MessagesDocument,
    "\n  query Message($id: String!) {\n    message(id: $id) {\n      id profileId source channel templateId templateVersion category topic priority transactional status reason address\n      decidedAt attempts provider providerMessageId error createdAt updatedAt\n    }\n    messageEvents(id: $id)\n  }\n": types.MessageDocument,
    "\n  query MessagingSettings {\n    messagingSettings\n  }\n": types.MessagingSettingsDocument,
    "\n  mutation UpdateMessagingSettings($change: JSON!) {\n    updateMessagingSettings(change: $change)\n  }\n": types.UpdateMessagingSettingsDocument,
    "\n  query ProfileSubscriptions($profile: String!) {\n    profileSubscriptions(profile: $profile) { channel address unsubscribed suppressed topics { key status chosen } }\n  }\n": types.ProfileSubscriptionsDocument,
    "\n  mutation ChangeSubscriptions($profile: String!, $input: ChangeSubscriptionsInput!) {\n    changeSubscriptions(profile: $profile, input: $input) { channel address unsubscribed suppressed topics { key status chosen } }\n  }\n": types.ChangeSubscriptionsDocument,
    "\n  query AddressSuppressions($channel: MessageChannel, $after: String) {\n    addressSuppressions(channel: $channel, after: $after, limit: 100) { nodes { channel address reason messageId createdAt } next }\n  }\n": types.AddressSuppressionsDocument,
    "\n  mutation SuppressAddress($input: SuppressAddressInput!) {\n    suppressAddress(input: $input) { channel address reason messageId createdAt }\n  }\n": types.SuppressAddressDocument,
    "\n  mutation UnsuppressAddress($channel: MessageChannel!, $address: String!) {\n    unsuppressAddress(channel: $channel, address: $address)\n  }\n": types.UnsuppressAddressDocument,
    "\n  query Templates {\n    templates { id name channel version updatedAt }\n  }\n": types.TemplatesDocument,
    "\n  fragment TemplateFields on Template {\n    id version name channel content createdAt\n  }\n": types.TemplateFieldsFragmentDoc,
    "\n  query Template($id: String!, $version: Int) {\n    template(id: $id, version: $version) { ...TemplateFields }\n  }\n": types.TemplateDocument,
    "\n  query TemplateVersions($id: String!) {\n    templateVersions(id: $id) { ...TemplateFields }\n  }\n": types.TemplateVersionsDocument,
    "\n  mutation CreateTemplate($input: TemplateInput!) {\n    createTemplate(input: $input) { ...TemplateFields }\n  }\n": types.CreateTemplateDocument,
    "\n  mutation UpdateTemplate($id: String!, $input: TemplateInput!) {\n    updateTemplate(id: $id, input: $input) { ...TemplateFields }\n  }\n": types.UpdateTemplateDocument,
    "\n  mutation DeleteTemplate($id: String!) {\n    deleteTemplate(id: $id)\n  }\n": types.DeleteTemplateDocument,
    "\n  query PreviewTemplate($id: String!, $profile: String, $event: JSON, $version: Int, $content: JSON) {\n    previewTemplate(id: $id, profile: $profile, event: $event, version: $version, content: $content) { version format parts }\n  }\n": types.PreviewTemplateDocument,
    "\n  query PreviewDraft($channel: String!, $content: JSON!, $profile: String, $event: JSON) {\n    previewDraft(channel: $channel, content: $content, profile: $profile, event: $event) { version format parts }\n  }\n": types.PreviewDraftDocument,
    "\n  mutation TestSendTemplate($id: String!, $to: String, $profile: String, $event: JSON, $version: Int) {\n    testSendTemplate(id: $id, to: $to, profile: $profile, event: $event, version: $version) { channel to version provider providerMessageId }\n  }\n": types.TestSendTemplateDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment BroadcastFields on Broadcast {\n    id name templateId templateVersion audienceId topic category holdoutPercent sendAt localTime timeZone\n    status startsAt createdAt finishedAt\n  }\n"): typeof import('./graphql').BroadcastFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment BroadcastProgressFields on Broadcast {\n    progress {\n      enqueued audienceSize\n      statuses { name count }\n      skipped { name count }\n      failed { name count }\n    }\n  }\n"): typeof import('./graphql').BroadcastProgressFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Broadcasts {\n    broadcasts(limit: 100) { nodes { ...BroadcastFields } next }\n  }\n"): typeof import('./graphql').BroadcastsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Broadcast($id: String!) {\n    broadcast(id: $id) { ...BroadcastFields ...BroadcastProgressFields }\n  }\n"): typeof import('./graphql').BroadcastDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateBroadcast($input: CreateBroadcastInput!) {\n    createBroadcast(input: $input) { ...BroadcastFields }\n  }\n"): typeof import('./graphql').CreateBroadcastDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PauseBroadcast($id: String!) {\n    pauseBroadcast(id: $id) { ...BroadcastFields ...BroadcastProgressFields }\n  }\n"): typeof import('./graphql').PauseBroadcastDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ResumeBroadcast($id: String!) {\n    resumeBroadcast(id: $id) { ...BroadcastFields ...BroadcastProgressFields }\n  }\n"): typeof import('./graphql').ResumeBroadcastDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelBroadcast($id: String!) {\n    cancelBroadcast(id: $id) { ...BroadcastFields ...BroadcastProgressFields }\n  }\n"): typeof import('./graphql').CancelBroadcastDocument;
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
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ProfileMessages($profile: String!, $before: String) {\n    profileMessages(profile: $profile, limit: 20, before: $before) {\n      nodes {\n        id channel templateId templateVersion category transactional status reason address provider error createdAt updatedAt\n      }\n      next\n    }\n  }\n"): typeof import('./graphql').ProfileMessagesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Messages($status: String, $channel: String, $source: String, $template: String, $before: String) {\n    messages(status: $status, channel: $channel, source: $source, template: $template, limit: 50, before: $before) {\n      nodes {\n        id profileId source channel templateId templateVersion category transactional status reason address provider error createdAt updatedAt\n      }\n      next\n    }\n  }\n"): typeof import('./graphql').MessagesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Message($id: String!) {\n    message(id: $id) {\n      id profileId source channel templateId templateVersion category topic priority transactional status reason address\n      decidedAt attempts provider providerMessageId error createdAt updatedAt\n    }\n    messageEvents(id: $id)\n  }\n"): typeof import('./graphql').MessageDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MessagingSettings {\n    messagingSettings\n  }\n"): typeof import('./graphql').MessagingSettingsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateMessagingSettings($change: JSON!) {\n    updateMessagingSettings(change: $change)\n  }\n"): typeof import('./graphql').UpdateMessagingSettingsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ProfileSubscriptions($profile: String!) {\n    profileSubscriptions(profile: $profile) { channel address unsubscribed suppressed topics { key status chosen } }\n  }\n"): typeof import('./graphql').ProfileSubscriptionsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ChangeSubscriptions($profile: String!, $input: ChangeSubscriptionsInput!) {\n    changeSubscriptions(profile: $profile, input: $input) { channel address unsubscribed suppressed topics { key status chosen } }\n  }\n"): typeof import('./graphql').ChangeSubscriptionsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AddressSuppressions($channel: MessageChannel, $after: String) {\n    addressSuppressions(channel: $channel, after: $after, limit: 100) { nodes { channel address reason messageId createdAt } next }\n  }\n"): typeof import('./graphql').AddressSuppressionsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SuppressAddress($input: SuppressAddressInput!) {\n    suppressAddress(input: $input) { channel address reason messageId createdAt }\n  }\n"): typeof import('./graphql').SuppressAddressDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UnsuppressAddress($channel: MessageChannel!, $address: String!) {\n    unsuppressAddress(channel: $channel, address: $address)\n  }\n"): typeof import('./graphql').UnsuppressAddressDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Templates {\n    templates { id name channel version updatedAt }\n  }\n"): typeof import('./graphql').TemplatesDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment TemplateFields on Template {\n    id version name channel content createdAt\n  }\n"): typeof import('./graphql').TemplateFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Template($id: String!, $version: Int) {\n    template(id: $id, version: $version) { ...TemplateFields }\n  }\n"): typeof import('./graphql').TemplateDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TemplateVersions($id: String!) {\n    templateVersions(id: $id) { ...TemplateFields }\n  }\n"): typeof import('./graphql').TemplateVersionsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateTemplate($input: TemplateInput!) {\n    createTemplate(input: $input) { ...TemplateFields }\n  }\n"): typeof import('./graphql').CreateTemplateDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateTemplate($id: String!, $input: TemplateInput!) {\n    updateTemplate(id: $id, input: $input) { ...TemplateFields }\n  }\n"): typeof import('./graphql').UpdateTemplateDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteTemplate($id: String!) {\n    deleteTemplate(id: $id)\n  }\n"): typeof import('./graphql').DeleteTemplateDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PreviewTemplate($id: String!, $profile: String, $event: JSON, $version: Int, $content: JSON) {\n    previewTemplate(id: $id, profile: $profile, event: $event, version: $version, content: $content) { version format parts }\n  }\n"): typeof import('./graphql').PreviewTemplateDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PreviewDraft($channel: String!, $content: JSON!, $profile: String, $event: JSON) {\n    previewDraft(channel: $channel, content: $content, profile: $profile, event: $event) { version format parts }\n  }\n"): typeof import('./graphql').PreviewDraftDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation TestSendTemplate($id: String!, $to: String, $profile: String, $event: JSON, $version: Int) {\n    testSendTemplate(id: $id, to: $to, profile: $profile, event: $event, version: $version) { channel to version provider providerMessageId }\n  }\n"): typeof import('./graphql').TestSendTemplateDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
