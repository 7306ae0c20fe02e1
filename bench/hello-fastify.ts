// A bare Fastify hello-world over HTTPS: the baseline that bench/health.ts compares Vigil with.
// It has no logger, no plugins and one route, `GET /` answering {"hello":"world"}.
//
// Usage: node --import tsx bench/hello-fastify.ts --cert FILE --key FILE [--host H] [--port P]
// Once it listens it prints `hello-fastify listening on HOST:PORT` on stdout; SIGTERM or SIGINT
// close it gracefully.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';

const { values } = parseArgs({
  options: {
    cert: { type: 'string' },
    key: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
  },
  strict: true,
});
if (!values.cert || !values.key) {
  process.stderr.write('usage: hello-fastify --cert FILE --key FILE [--host H] [--port P]\n');
  process.exit(2);
}

const app = Fastify({
  logger: false,
  https: { cert: readFileSync(values.cert), key: readFileSync(values.key) },
});
app.get('/', async () => ({ hello: 'world' }));

await app.listen({ host: values.host, port: Number(values.port) });
const address = app.server.address();
const port = typeof address === 'object' && address ? address.port : Number(values.port);
process.stdout.write(`hello-fastify listening on ${values.host}:${port}\n`);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
