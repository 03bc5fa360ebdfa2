// The baseline for `bench/run.mjs`: a bare Fastify server, no logger, no plugins, one JSON route.
// Usage: node bench/hello-server.mjs PORT   (listens on 127.0.0.1)
import Fastify from 'fastify';

const port = Number(process.argv[2] ?? process.env.HELLO_PORT ?? 3000);
const app = Fastify({ logger: false });
app.get('/hello', async () => ({ hello: 'world' }));
await app.listen({ host: '127.0.0.1', port });

// Stop promptly when run.mjs is done with us.
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => app.close().then(() => process.exit(0)));
