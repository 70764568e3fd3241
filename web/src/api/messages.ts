// A person's messages over GraphQL (docs/messages.md). Documents are typed by ../gql.
import { graphql } from '../gql';
import { gql } from './graphql';

export interface MessageRow {
  id: string;
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

export const messages = {
  ofProfile: async (profile: string, before?: string): Promise<{ messages: MessageRow[]; next: string | null }> => {
    const page = (await gql(ProfileMessagesDocument, { profile, before })).profileMessages;
    return { messages: page.nodes, next: page.next ?? null };
  },
};
