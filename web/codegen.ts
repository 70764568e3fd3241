// GraphQL Code Generator (`npm run codegen`): every `graphql(...)` document in src/ is checked
// against Herald's schema and typed, into src/gql/ (checked in; src/api/codegen.test.ts fails
// when it is stale). The schema file is kept equal to the server's by crates/herald-graphql's
// tests. The `client` preset with `documentMode: 'string'`: documents stay plain strings at
// run time (no AST, no extra runtime), typed by their result and variables.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: '../crates/herald-graphql/schema.graphql',
  documents: ['src/**/*.{ts,tsx}', '!src/gql/**', '!src/**/*.test.ts'],
  generates: {
    'src/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        documentMode: 'string',
        useTypeImports: true,
        // Every custom scalar of the schema; a new one fails codegen until it is mapped here.
        scalars: {
          DateTime: 'string', // RFC 3339
          JSON: '../api/types#Json',
        },
        strictScalars: true,
      },
    },
  },
};

export default config;
