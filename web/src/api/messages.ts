// Messages over GraphQL (docs/messages.md): the message log with its filters, a person's
// messages, one message with its delivery events. Documents are typed by ../gql.
import { graphql } from '../gql';
import { gql } from './graphql';
import type { Json } from './types';

export interface MessageRow {
  id: string;
  profileId?: string;
  source?: string;
  topic?: string | null;
  priority?: string;
  decidedAt?: string | null;
  attempts?: number;
  providerMessageId?: string | null;
  channel: string;
  templateId: string;
  templateVersion: number;
  category: string;
  transactional: boolean;
  status: string;
  reason?: string | null;
  address?: string | null;
  provider?: string | null;
  error?: string | null;
  createdAt?: string | null;
  updatedAt?: string | null;
}

const ProfileMessagesDocument = graphql(`
  query ProfileMessages($profile: String!, $before: String) {
    profileMessages(profile: $profile, limit: 20, before: $before) {
      nodes {
        id channel templateId templateVersion category transactional status reason address provider error createdAt updatedAt
      }
      next
    }
  }
`);

/** The log's filters, as in the page's URL. */
export interface LogFilter {
  status?: string;
  channel?: string;
  source?: string;
  template?: string;
}

const MessagesDocument = graphql(`
  query Messages($status: String, $channel: String, $source: String, $template: String, $before: String) {
    messages(status: $status, channel: $channel, source: $source, template: $template, limit: 50, before: $before) {
      nodes {
        id profileId source channel templateId templateVersion category transactional status reason address provider error createdAt updatedAt
      }
      next
    }
  }
`);

const MessageDocument = graphql(`
  query Message($id: String!) {
    message(id: $id) {
      id profileId source channel templateId templateVersion category topic priority transactional status reason address
      decidedAt attempts provider providerMessageId error createdAt updatedAt
    }
    messageEvents(id: $id)
  }
`);

/** A delivery event of a message: a timeline event. */
export interface DeliveryEventRow {
  seq: number;
  event: string;
  timestamp?: string;
  properties?: Record<string, unknown>;
}

const MessagingSettingsDocument = graphql(`
  query MessagingSettings {
    messagingSettings
  }
`);

const UpdateMessagingSettingsDocument = graphql(`
  mutation UpdateMessagingSettings($change: JSON!) {
    updateMessagingSettings(change: $change)
  }
`);

/** The messaging settings in force (credentials masked by the server). */
export interface MessagingSettings {
  /** `file`: the --channels file (read-only); `api`: stored, changed here. */
  origin: 'file' | 'api';
  version: number;
  channels?: Record<string, unknown>;
  policy?: unknown;
  tracking?: unknown;
  addresses?: unknown;
  topics?: unknown;
  postmark_webhook?: boolean;
}

export const messages = {
  settings: async (): Promise<MessagingSettings> =>
    (await gql(MessagingSettingsDocument, {})).messagingSettings as unknown as MessagingSettings,
  /** Replace the sections given (`null` removes one), refused if the settings moved past `version`. */
  updateSettings: async (change: Record<string, unknown>): Promise<MessagingSettings> =>
    (await gql(UpdateMessagingSettingsDocument, { change: change as Json }, true)).updateMessagingSettings as unknown as MessagingSettings,
  list: async (filter: LogFilter, before?: string): Promise<{ messages: MessageRow[]; next: string | null }> => {
    const page = (await gql(MessagesDocument, { ...filter, before })).messages;
    return { messages: page.nodes, next: page.next ?? null };
  },
  get: async (id: string): Promise<{ message: MessageRow; events: DeliveryEventRow[] } | null> => {
    const found = await gql(MessageDocument, { id });
    if (!found.message) return null;
    return { message: found.message, events: found.messageEvents as unknown as DeliveryEventRow[] };
  },
  ofProfile: async (profile: string, before?: string): Promise<{ messages: MessageRow[]; next: string | null }> => {
    const page = (await gql(ProfileMessagesDocument, { profile, before })).profileMessages;
    return { messages: page.nodes, next: page.next ?? null };
  },
};
