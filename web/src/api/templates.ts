// Templates over GraphQL (docs/templates.md): list, versions, save, delete, and previews of a
// stored version or an unsaved draft for a profile. Documents are typed by ../gql (npm run codegen).
import { graphql } from '../gql';
import { gql } from './graphql';
import type { Json } from './types';
import { contentFor, type Channel, type Part, type TemplateContent } from '../lib/templateParts';

export { CHANNELS, PARTS, contentFor, type Channel, type Part, type TemplateContent } from '../lib/templateParts';

export interface Template {
  id: string;
  version: number;
  name: string;
  channel: Channel;
  content: TemplateContent;
  createdAt: string;
}

export interface TemplateSummary {
  id: string;
  name: string;
  channel: Channel;
  version: number;
  updatedAt: string;
}

export interface TemplatePreview {
  version: number | null;
  format: string;
  parts: Partial<Record<Part, string>>;
}

const TemplatesDocument = graphql(`
  query Templates {
    templates { id name channel version updatedAt }
  }
`);

graphql(`
  fragment TemplateFields on Template {
    id version name channel content createdAt
  }
`);

const TemplateDocument = graphql(`
  query Template($id: String!, $version: Int) {
    template(id: $id, version: $version) { ...TemplateFields }
  }
`);

const TemplateVersionsDocument = graphql(`
  query TemplateVersions($id: String!) {
    templateVersions(id: $id) { ...TemplateFields }
  }
`);

const CreateTemplateDocument = graphql(`
  mutation CreateTemplate($input: TemplateInput!) {
    createTemplate(input: $input) { ...TemplateFields }
  }
`);

const UpdateTemplateDocument = graphql(`
  mutation UpdateTemplate($id: String!, $input: TemplateInput!) {
    updateTemplate(id: $id, input: $input) { ...TemplateFields }
  }
`);

const DeleteTemplateDocument = graphql(`
  mutation DeleteTemplate($id: String!) {
    deleteTemplate(id: $id)
  }
`);

const PreviewTemplateDocument = graphql(`
  query PreviewTemplate($id: String!, $profile: String, $event: JSON, $version: Int, $content: JSON) {
    previewTemplate(id: $id, profile: $profile, event: $event, version: $version, content: $content) { version format parts }
  }
`);

const PreviewDraftDocument = graphql(`
  query PreviewDraft($channel: String!, $content: JSON!, $profile: String, $event: JSON) {
    previewDraft(channel: $channel, content: $content, profile: $profile, event: $event) { version format parts }
  }
`);

interface TemplateFields {
  id: string;
  version: number;
  name: string;
  channel: string;
  content: Json;
  createdAt: string;
}

const template = (t: TemplateFields): Template => ({
  ...t,
  channel: t.channel as Channel,
  content: t.content as unknown as TemplateContent,
});

const preview = (p: { version?: number | null; format: string; parts: Json }): TemplatePreview => ({
  version: p.version ?? null,
  format: p.format,
  parts: p.parts as Partial<Record<Part, string>>,
});

const TestSendDocument = graphql(`
  mutation TestSendTemplate($id: String!, $to: String, $profile: String, $event: JSON, $version: Int) {
    testSendTemplate(id: $id, to: $to, profile: $profile, event: $event, version: $version) { channel to version provider providerMessageId }
  }
`);

export const templates = {
  list: async (): Promise<TemplateSummary[]> =>
    (await gql(TemplatesDocument, {})).templates.map((t) => ({ ...t, channel: t.channel as Channel })),
  get: async (id: string, version?: number): Promise<Template | null> => {
    const t = (await gql(TemplateDocument, { id, version })).template;
    return t ? template(t) : null;
  },
  versions: async (id: string): Promise<Template[]> => (await gql(TemplateVersionsDocument, { id })).templateVersions.map(template),
  create: async (id: string, name: string, channel: Channel, content: TemplateContent): Promise<Template> =>
    template(
      (await gql(CreateTemplateDocument, { input: { id, name: name || undefined, channel, content: contentFor(channel, content) } }, true))
        .createTemplate,
    ),
  update: async (id: string, name: string, channel: Channel, content: TemplateContent, expectedVersion: number): Promise<Template> =>
    template(
      (await gql(UpdateTemplateDocument, { id, input: { name: name || undefined, channel, content: contentFor(channel, content), expectedVersion } }, true))
        .updateTemplate,
    ),
  remove: (id: string) => gql(DeleteTemplateDocument, { id }, true),
  testSend: async (id: string, p: { to?: string; profile?: string; event?: Json; version?: number }) =>
    (await gql(TestSendDocument, { id, ...p }, true)).testSendTemplate,
  preview: async (
    id: string,
    p: { profile?: string; event?: Json; content?: TemplateContent; channel: Channel; version?: number },
  ): Promise<TemplatePreview> =>
    preview(
      (
        await gql(PreviewTemplateDocument, {
          id,
          version: p.version,
          profile: p.profile || undefined,
          event: p.event,
          content: p.content ? contentFor(p.channel, p.content) : undefined,
        })
      ).previewTemplate,
    ),
  previewDraft: async (channel: Channel, content: TemplateContent, p: { profile?: string; event?: Json }): Promise<TemplatePreview> =>
    preview((await gql(PreviewDraftDocument, { channel, content: contentFor(channel, content), profile: p.profile || undefined, event: p.event })).previewDraft),
};
