// Writes the server's OpenAPI document to a file (the argument), as `GET /api/v1/openapi.json`
// serves it, and the TypeScript types the web console's API client is checked against. The
// document comes from the real route table: a server is assembled on a throwaway SQLite data
// directory, asked for its document, and closed, without listening.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import pino from 'pino';
import { createVigil } from '../../server/src/app.js';
import { loadConfig } from '../../server/src/config/config.js';

const [jsonOut, typesOut] = process.argv.slice(2);
if (!jsonOut || !typesOut) {
  console.error('usage: openapi.ts <openapi.json> <schema.d.ts>');
  process.exit(2);
}
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-openapi-'));
try {
  const config = loadConfig({
    file: path.join(dataDir, 'none.toml'),
    fileRequired: false,
    env: { VIGIL_STORAGE_DATA_DIR: dataDir },
  });
  const vigil = await createVigil({ config, logger: pino({ level: 'silent' }) });
  const doc = vigil.http.swagger();
  await vigil.close();
  writeFileSync(jsonOut, `${JSON.stringify(doc, null, 2)}\n`);
  const ast = await openapiTS(doc as never);
  writeFileSync(
    typesOut,
    `// Generated from the server's OpenAPI document by packages/web/scripts/openapi.ts; do not edit.\n${astToString(ast)}`,
  );
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
