// The generated GraphQL types (src/gql/, `npm run codegen`) must be what codegen makes of
// today's schema and documents: a schema change or an edited document without a new
// `npm run codegen` turns this red.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { generate } from '@graphql-codegen/cli';
import { describe, expect, it } from 'vitest';
import config from '../../codegen';

const web = resolve(import.meta.dirname, '../..');
const OUTPUT = 'src/gql/';

describe('generated GraphQL types', () => {
  it(`${OUTPUT} is what \`npm run codegen\` writes now`, async () => {
    const outputs: { filename: string; content: string }[] = await generate({ ...config, cwd: web, silent: true }, false);
    expect(outputs.length).toBeGreaterThan(0);
    const generated = new Map(outputs.map((o) => [relative(web, resolve(web, o.filename)), o.content]));
    const onDisk = readdirSync(join(web, OUTPUT)).map((name) => join(OUTPUT, name));
    expect(onDisk.sort(), `${OUTPUT} holds other files than codegen writes: run \`npm run codegen\``).toEqual(
      [...generated.keys()].sort(),
    );
    for (const [file, content] of generated) {
      expect(readFileSync(join(web, file), 'utf8'), `${file} is stale: run \`npm run codegen\` in web/`).toBe(content);
    }
  }, 60_000);
});
