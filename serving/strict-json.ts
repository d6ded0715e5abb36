/**
 * JSON bodies decoded as strict UTF-8. fastify's own parser decodes with Buffer#toString, which
 * silently replaces invalid bytes with U+FFFD: the gateway would then store and answer something
 * other than what the client sent. Here invalid UTF-8 is a 400 (`body: not valid UTF-8`), before
 * any route runs; everything else (empty body, proto poisoning, syntax errors) is fastify's parser.
 */
import type { FastifyInstance } from 'fastify';
import { decodeUtf8 } from '../lib/text/storable';

export function parseJsonAsStrictUtf8(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    const text = decodeUtf8(body as Buffer);
    if (text === undefined) {
      done(Object.assign(new Error('not valid UTF-8'), { statusCode: 400 }), undefined);
      return;
    }
    // The default parser answers through `done`; what it returns is not the answer.
    void parseJson(req, text, done);
  });
}
