// Broadcasts over GraphQL (docs/broadcasts.md): list, read with progress, create, pause,
// resume, cancel. Documents are typed by ../gql (npm run codegen).
import { graphql } from '../gql';
import { gql } from './graphql';

export interface NamedCount {
  name: string;
  count: number;
}

export interface BroadcastProgress {
  enqueued: number;
  audienceSize: number;
  statuses: NamedCount[];
  skipped: NamedCount[];
  failed: NamedCount[];
}

export interface Broadcast {
  id: string;
  name: string;
  templateId: string;
  templateVersion: number;
  audienceId: string;
  topic?: string | null;
  category: string;
  holdoutPercent: number;
  sendAt?: string | null;
  localTime?: string | null;
  timeZone?: string | null;
  status: string;
  startsAt?: string | null;
  createdAt?: string | null;
  finishedAt?: string | null;
  progress?: BroadcastProgress | null;
}

export interface NewBroadcast {
  name: string;
  template: string;
  audience: string;
  topic?: string;
  holdoutPercent?: number;
  sendAt?: string;
  localTime?: string;
  timeZone?: string;
}

graphql(`
  fragment BroadcastFields on Broadcast {
    id name templateId templateVersion audienceId topic category holdoutPercent sendAt localTime timeZone
    status startsAt createdAt finishedAt
  }
`);

graphql(`
  fragment BroadcastProgressFields on Broadcast {
    progress {
      enqueued audienceSize
      statuses { name count }
      skipped { name count }
      failed { name count }
    }
  }
`);

const BroadcastsDocument = graphql(`
  query Broadcasts {
    broadcasts(limit: 100) { nodes { ...BroadcastFields } next }
  }
`);

const BroadcastDocument = graphql(`
  query Broadcast($id: String!) {
    broadcast(id: $id) { ...BroadcastFields ...BroadcastProgressFields }
  }
`);

const CreateBroadcastDocument = graphql(`
  mutation CreateBroadcast($input: CreateBroadcastInput!) {
    createBroadcast(input: $input) { ...BroadcastFields }
  }
`);

const PauseBroadcastDocument = graphql(`
  mutation PauseBroadcast($id: String!) {
    pauseBroadcast(id: $id) { ...BroadcastFields ...BroadcastProgressFields }
  }
`);

const ResumeBroadcastDocument = graphql(`
  mutation ResumeBroadcast($id: String!) {
    resumeBroadcast(id: $id) { ...BroadcastFields ...BroadcastProgressFields }
  }
`);

const CancelBroadcastDocument = graphql(`
  mutation CancelBroadcast($id: String!) {
    cancelBroadcast(id: $id) { ...BroadcastFields ...BroadcastProgressFields }
  }
`);

export const broadcasts = {
  list: async (): Promise<Broadcast[]> => (await gql(BroadcastsDocument, {})).broadcasts.nodes,
  get: async (id: string): Promise<Broadcast | null> => (await gql(BroadcastDocument, { id })).broadcast ?? null,
  create: async (b: NewBroadcast): Promise<Broadcast> => (await gql(CreateBroadcastDocument, { input: b }, true)).createBroadcast,
  pause: async (id: string): Promise<Broadcast> => (await gql(PauseBroadcastDocument, { id }, true)).pauseBroadcast,
  resume: async (id: string): Promise<Broadcast> => (await gql(ResumeBroadcastDocument, { id }, true)).resumeBroadcast,
  cancel: async (id: string): Promise<Broadcast> => (await gql(CancelBroadcastDocument, { id }, true)).cancelBroadcast,
};
