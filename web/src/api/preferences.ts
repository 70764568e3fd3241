// Preferences over GraphQL (docs/preferences.md): a person's subscriptions per channel (those
// of the address their messages go to), and the suppressed addresses. Typed by ../gql.
import { graphql } from '../gql';
import type { MessageChannel } from '../gql/graphql';
import { gql } from './graphql';

export interface TopicRow {
  key: string;
  status: string;
  chosen: boolean;
}

export interface ChannelRow {
  channel: string;
  address: string;
  unsubscribed: boolean;
  topics: TopicRow[];
  suppressed?: string | null;
}

export interface SuppressionRow {
  channel: string;
  address: string;
  reason: string;
  messageId?: string | null;
  createdAt?: string | null;
}

const ProfileSubscriptionsDocument = graphql(`
  query ProfileSubscriptions($profile: String!) {
    profileSubscriptions(profile: $profile) { channel address unsubscribed suppressed topics { key status chosen } }
  }
`);

const ChangeSubscriptionsDocument = graphql(`
  mutation ChangeSubscriptions($profile: String!, $input: ChangeSubscriptionsInput!) {
    changeSubscriptions(profile: $profile, input: $input) { channel address unsubscribed suppressed topics { key status chosen } }
  }
`);

const SuppressionsDocument = graphql(`
  query AddressSuppressions($channel: MessageChannel, $after: String) {
    addressSuppressions(channel: $channel, after: $after, limit: 100) { nodes { channel address reason messageId createdAt } next }
  }
`);

const SuppressDocument = graphql(`
  mutation SuppressAddress($input: SuppressAddressInput!) {
    suppressAddress(input: $input) { channel address reason messageId createdAt }
  }
`);

const UnsuppressDocument = graphql(`
  mutation UnsuppressAddress($channel: MessageChannel!, $address: String!) {
    unsuppressAddress(channel: $channel, address: $address)
  }
`);

/** The GraphQL enum of a channel name (`in_app` → `IN_APP`). */
export const channelEnum = (c: string): MessageChannel => c.toUpperCase() as MessageChannel;

export const preferences = {
  ofProfile: async (profile: string): Promise<ChannelRow[]> => (await gql(ProfileSubscriptionsDocument, { profile })).profileSubscriptions,
  change: async (profile: string, channel: string, change: { subscribe?: string[]; unsubscribe?: string[] }): Promise<ChannelRow> =>
    (
      await gql(
        ChangeSubscriptionsDocument,
        { profile, input: { channel: channelEnum(channel), subscribe: change.subscribe ?? [], unsubscribe: change.unsubscribe ?? [] } },
        true,
      )
    ).changeSubscriptions,
  suppressions: async (channel?: string, after?: string): Promise<{ rows: SuppressionRow[]; next: string | null }> => {
    const page = (await gql(SuppressionsDocument, { channel: channel ? channelEnum(channel) : undefined, after })).addressSuppressions;
    return { rows: page.nodes, next: page.next ?? null };
  },
  suppress: async (channel: string, address: string): Promise<SuppressionRow> =>
    (await gql(SuppressDocument, { input: { channel: channelEnum(channel), address } }, true)).suppressAddress,
  lift: (channel: string, address: string) => gql(UnsuppressDocument, { channel: channelEnum(channel), address }, true),
};
