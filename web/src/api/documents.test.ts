// Every GraphQL document in src/ is a static `graphql(...)` literal holding one named operation
// or fragment that is valid against Herald's schema (crates/herald-graphql/schema.graphql).
// `npm run codegen` refuses an invalid document too; this test says which one and where.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { gqlPluckFromCodeStringSync } from '@graphql-tools/graphql-tag-pluck';
import {
  buildSchema,
  getLocation,
  Kind,
  NoUnusedFragmentsRule,
  parse,
  specifiedRules,
  validate,
  visit,
  type DefinitionNode,
  type FragmentDefinitionNode,
  type GraphQLError,
  type GraphQLSchema,
  Source,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import config from '../../codegen';

const web = resolve(import.meta.dirname, '../..');

interface CodeFile {
  file: string;
  code: string;
}

/** The files codegen reads documents from (`documents` in codegen.ts). */
function sourceFiles(dir: string): CodeFile[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    const file = relative(web, path);
    if (entry.isDirectory()) return file === join('src', 'gql') ? [] : sourceFiles(path);
    if (!/\.tsx?$/.test(entry.name) || entry.name.endsWith('.test.ts')) return [];
    return [{ file, code: readFileSync(path, 'utf8') }];
  });
}

interface Document {
  file: string;
  source: Source;
  definition: DefinitionNode;
}

const CALL = /\bgraphql\(\s*`/g;
const INTERPOLATED = /\bgraphql\(\s*`[^`]*\$\{/;

const describeDefinition = (d: DefinitionNode) =>
  d.kind === Kind.OPERATION_DEFINITION
    ? `${d.operation} ${d.name?.value ?? '(unnamed)'}`
    : d.kind === Kind.FRAGMENT_DEFINITION
      ? `fragment ${d.name.value}`
      : d.kind;

/** `file:line` of a node of a plucked document (its Source starts at the template's backtick). */
function where(file: string, source: Source, start: number): string {
  return `${file}:${source.locationOffset.line + getLocation(source, start).line - 1}`;
}

/** What is wrong with the GraphQL documents of these files, one message each; none: []. */
function problems(schema: GraphQLSchema, files: CodeFile[]): string[] {
  const found: string[] = [];
  const documents: Document[] = [];
  for (const { file, code } of files) {
    if (INTERPOLATED.test(code)) found.push(`${file}: a graphql(\`...\`) document splices \${...} in; documents must be static`);
    // Re-made with this module's graphql (the plucker may load another copy of it).
    const sources = gqlPluckFromCodeStringSync(file, code, { skipIndent: true }).map(
      (s) => new Source(s.body, file, { line: s.locationOffset.line, column: s.locationOffset.column }),
    );
    const calls = code.match(CALL)?.length ?? 0;
    if (sources.length !== calls) {
      found.push(`${file}: ${calls} graphql(\`...\`) calls but ${sources.length} documents found; write each as graphql(\`...\`), nothing else`);
    }
    for (const source of sources) {
      let definitions: readonly DefinitionNode[];
      try {
        definitions = parse(source).definitions;
      } catch (e) {
        const error = e as GraphQLError;
        found.push(`${where(file, source, error.positions?.[0] ?? 0)}: ${error.message}`);
        continue;
      }
      if (definitions.length !== 1) found.push(`${where(file, source, 0)}: ${definitions.length} definitions in one graphql(\`...\`); write one each`);
      for (const definition of definitions) documents.push({ file, source, definition });
    }
  }

  const fragments = new Map<string, FragmentDefinitionNode>();
  const names = new Map<string, string>();
  for (const { file, source, definition } of documents) {
    const at = where(file, source, definition.loc?.start ?? 0);
    if (definition.kind === Kind.OPERATION_DEFINITION && !definition.name) found.push(`${at}: ${describeDefinition(definition)}: every operation needs a name`);
    if (definition.kind !== Kind.OPERATION_DEFINITION && definition.kind !== Kind.FRAGMENT_DEFINITION) continue;
    const name = definition.name?.value;
    if (!name) continue;
    const before = names.get(name);
    if (before) found.push(`${at}: ${describeDefinition(definition)}: the name is taken (${before})`);
    else names.set(name, at);
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(name, definition);
  }

  /** The definition with every fragment it spreads, directly or not (what is sent). */
  const withFragments = (definition: DefinitionNode): DefinitionNode[] => {
    const all = new Map<string, FragmentDefinitionNode>();
    const collect = (node: DefinitionNode) =>
      visit(node, {
        FragmentSpread(spread) {
          const fragment = fragments.get(spread.name.value);
          if (fragment && !all.has(spread.name.value)) {
            all.set(spread.name.value, fragment);
            collect(fragment);
          }
        },
      });
    collect(definition);
    return [definition, ...[...all.values()].filter((f) => f !== definition)];
  };

  const rules = specifiedRules.filter((rule) => rule !== NoUnusedFragmentsRule);
  for (const { file, source, definition } of documents) {
    if (definition.kind !== Kind.OPERATION_DEFINITION && definition.kind !== Kind.FRAGMENT_DEFINITION) continue;
    const errors = validate(schema, { kind: Kind.DOCUMENT, definitions: withFragments(definition) }, rules);
    for (const error of errors) found.push(`${locate(error, file, source, definition)}: ${describeDefinition(definition)}: ${error.message}`);
  }
  return found;
}

/** Where an error is: in the definition itself, or in a fragment it spreads (of another file). */
function locate(error: GraphQLError, file: string, source: Source, definition: DefinitionNode): string {
  const loc = error.nodes?.[0]?.loc;
  if (!loc) return where(file, source, definition.loc?.start ?? 0);
  return where(loc.source === source ? file : loc.source.name, loc.source, loc.start);
}

const schemaPath = config.schema;
if (typeof schemaPath !== 'string') throw new Error('codegen.ts: schema should be one path');
const schema = buildSchema(readFileSync(resolve(web, schemaPath), 'utf8'));

describe('GraphQL documents', () => {
  it('every document in src/ is static, named and valid against the schema', () => {
    const files = sourceFiles(join(web, 'src'));
    expect(files.some((f) => f.code.match(CALL)), 'no graphql(`...`) document found in src/').toBe(true);
    expect(problems(schema, files), `GraphQL documents that do not hold against ${schemaPath}`).toEqual([]);
  });

  it('names the file, line, operation and error of a wrong document', () => {
    const q = (body: string) => ['graph', 'ql(`', body, '`)'].join('');
    const files: CodeFile[] = [
      {
        file: 'a.ts',
        code: [
          `const A = ${q('\n  fragment Ids on Profile {\n    id\n  }\n')};`,
          `const B = ${q('\n  query B($id: String!) {\n    profile(id: $id) {\n      ...Ids\n      nope\n    }\n  }\n')};`,
          `const C = ${q('query { status { lag } }')};`,
          `const D = ${q('query B { status { lag } }')};`,
        ].join('\n'),
      },
      { file: 'b.ts', code: `const E = ${q('query E { audiences { ...Ids } }')};` },
      { file: 'c.ts', code: `const F = ${q('query F { status { ${"x"} } }')};\nconst G = gql\`query G { status { lag } }\`;` },
    ];
    expect(problems(schema, files)).toEqual([
      'c.ts: a graphql(`...`) document splices ${...} in; documents must be static',
      'c.ts: 1 graphql(`...`) calls but 2 documents found; write each as graphql(`...`), nothing else',
      'c.ts:1: Syntax Error: Expected Name, found "}".',
      'a.ts:14: query (unnamed): every operation needs a name',
      'a.ts:15: query B: the name is taken (a.ts:7)',
      'a.ts:10: query B: Cannot query field "nope" on type "Profile".',
      'b.ts:1: query E: Fragment "Ids" cannot be spread here as objects of type "Audience" can never be of type "Profile".',
    ]);
  });
});
