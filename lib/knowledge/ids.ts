/**
 * Content-derived ids: the same claim from the same span always gets the same candidate id, the
 * same resolved triple the same fact id, so retries and re-ingests land on existing rows.
 */
import { createHash } from 'node:crypto';

const h = (...parts: string[]) => createHash('sha256').update(parts.join('\u001f')).digest('hex');

export const entityId = (type: string, key: string) => `e-${h('entity/v1', type, key).slice(0, 16)}`;
export const factId = (subjectId: string, predicate: string, objectId: string) => `f-${h('fact/v1', subjectId, predicate, objectId).slice(0, 12)}`;
export const candidateId = (batchDigest: string, conversation: string, turn: number, start: number, end: number, predicate: string, subject: string, object: string) =>
  `c-${h('candidate/v1', batchDigest, conversation, String(turn), String(start), String(end), predicate, subject, object).slice(0, 16)}`;
export const contentDigest = (text: string) => h('knowledge-batch/v1', text);
