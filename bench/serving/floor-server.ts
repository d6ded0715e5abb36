/**
 * The framework's floor for the serving benchmark (bench/serving/limit.ts): a fastify route at the
 * gateway's predict path that parses the same JSON body and answers a constant body as long as
 * the gateway's answer. Nothing else: no auth, no schema, no model, no recording — what any HTTP
 * model server on fastify pays before it does any work of its own.
 *
 *   node --import tsx bench/serving/floor-server.ts PORT BODY_FILE
 */
import fs from 'node:fs';
import Fastify from 'fastify';
import { PREDICT_PATH } from './stack';

const [port, bodyFile] = process.argv.slice(2);
const body = fs.readFileSync(bodyFile!);
const app = Fastify({ logger: false });
app.post(PREDICT_PATH, async (req, reply) => {
  // Parsed by fastify's JSON parser, as the gateway's body is; touched so it cannot be skipped.
  if (typeof req.body !== 'object' || req.body === null) return reply.code(400).send();
  return reply.type('application/json').send(body);
});
app.get('/healthz', async () => ({ ok: true }));
app.listen({ port: Number(port), host: '127.0.0.1' }).catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
