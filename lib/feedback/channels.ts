/**
 * The feedback channels a client may send and the one-line checks at the edge. Every message
 * names the field (with its item index in a batch), so a client can fix the one thing wrong.
 */

import { z } from 'zod';
import { check, finiteNumber, storableString, type Checked } from '../schema/issues';

export const FEEDBACK_KINDS = ['rating', 'click', 'dismiss', 'dwell', 'copy', 'event', 'label', 'comment'] as const;
export type FeedbackKind = (typeof FEEDBACK_KINDS)[number];

export type Channel = 'explicit' | 'implicit' | 'behavioural' | 'label' | 'comment';

export const CHANNEL_OF: Record<FeedbackKind, Channel> = {
  rating: 'explicit',
  click: 'implicit',
  dismiss: 'implicit',
  dwell: 'implicit',
  copy: 'implicit',
  event: 'behavioural',
  label: 'label',
  comment: 'comment',
};

export const MAX_BATCH_ITEMS = 5000;
export const MAX_COMMENT_LENGTH = 4000;
const MAX_KEY_LENGTH = 256;
const MAX_LABEL_LENGTH = 200;
const MAX_EVENT_LENGTH = 64;

export interface FeedbackItem {
  predictionId: string;
  kind: FeedbackKind;
  value: number | null;
  label: string | null;
  event: string | null;
  comment: string | null;
  source: string | null;
  unitKey: string | null;
  idempotencyKey: string | null;
}

export type { Checked } from '../schema/issues';

const FIELDS = ['predictionId', 'kind', 'value', 'label', 'event', 'comment', 'source', 'unitKey', 'idempotencyKey'] as const;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
// Event names are identifiers a dashboard groups by, not prose.
const EVENT_NAME = /^[A-Za-z][A-Za-z0-9_.:-]*$/;

/** Absent and null are the same thing: null. */
const orNull = <S extends z.ZodType>(s: S) => s.nullish().transform((v) => (v ?? null) as z.output<S> | null);

/**
 * One feedback item, as both feedback routes take it (the single route is a batch of one). The
 * schema is the contract: the gateway validates with it and its OpenAPI document is generated
 * from it (serving/openapi.ts). Every message names the field.
 */
export const feedbackItemSchema = z
  .strictObject(
    {
      predictionId: z
        .string({ error: 'must be the UUID a predict response returned' })
        .regex(UUID, { error: 'must be the UUID a predict response returned' })
        .transform((s) => s.toLowerCase())
        .meta({ description: 'The id a predict response returned (predictionId or one of predictionIds).' }),
      kind: z.enum(FEEDBACK_KINDS, { error: `must be one of ${FEEDBACK_KINDS.join(', ')}` }),
      value: orNull(finiteNumber()).meta({ description: 'rating: 1–5 (required); dwell: seconds ≥ 0 (required); otherwise optional.' }),
      label: orNull(storableString(MAX_LABEL_LENGTH)).meta({ description: 'The true class; required with kind label, refused otherwise.' }),
      event: orNull(storableString(MAX_EVENT_LENGTH)).meta({ description: 'The action (e.g. add_to_cart); required with kind event, refused otherwise.' }),
      comment: orNull(storableString(MAX_COMMENT_LENGTH, `must be non-blank text of at most ${MAX_COMMENT_LENGTH} characters`)).meta({
        description: 'Free text; required with kind comment, refused otherwise. Scored for sentiment.',
      }),
      source: orNull(storableString(MAX_KEY_LENGTH)),
      unitKey: orNull(storableString(MAX_KEY_LENGTH)),
      idempotencyKey: orNull(storableString(MAX_KEY_LENGTH)).meta({ description: 'A retry with the same key and content is answered 200, not stored twice.' }),
    },
    { error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown field (expected ${FIELDS.join(', ')})` : 'expected a JSON object with predictionId and kind') },
  )
  .superRefine((it, ctx) => {
    const bad = (field: (typeof FIELDS)[number], message: string) => ctx.addIssue({ code: 'custom', path: [field], message, input: it[field] });
    const { kind, value } = it;
    if (kind === 'rating' && (value === null || value < 1 || value > 5)) return bad('value', 'a rating must be a number from 1 to 5');
    if (kind === 'dwell' && (value === null || value < 0)) return bad('value', 'dwell must be a number of seconds ≥ 0');
    if (kind === 'label' && it.label === null) return bad('label', 'required with kind label (the true class)');
    if (kind !== 'label' && it.label !== null) return bad('label', 'only allowed with kind label');
    if (kind === 'event' && it.event === null) return bad('event', "required with kind event (the action's name, e.g. add_to_cart)");
    if (kind !== 'event' && it.event !== null) return bad('event', 'only allowed with kind event');
    if (it.event !== null && !EVENT_NAME.test(it.event)) return bad('event', 'must start with a letter and hold only letters, digits, _ . : -');
    if (kind !== 'comment' && it.comment !== null) return bad('comment', 'only allowed with kind comment');
    if (it.comment !== null && it.comment.trim().length === 0) return bad('comment', `must be non-blank text of at most ${MAX_COMMENT_LENGTH} characters`);
    if (kind === 'comment' && it.comment === null) return bad('comment', 'required with kind comment (the text)');
  });

/** `{ items: [...] }`: all valid or none stored, so a client never has to work out which half landed. */
export const feedbackBatchSchema = z
  .strictObject(
    {
      items: z
        .array(feedbackItemSchema, { error: 'expected a non-empty array of feedback items' })
        .min(1, { error: 'expected a non-empty array of feedback items' })
        .max(MAX_BATCH_ITEMS, { error: (iss) => `at most ${MAX_BATCH_ITEMS} per request, got ${(iss.input as unknown[]).length}` }),
    },
    { error: (iss) => (iss.code === 'unrecognized_keys' ? 'unknown field (expected items)' : 'expected a JSON object with items') },
  )
  .superRefine(({ items }, ctx) => {
    const keys = new Map<string, number>();
    for (let i = 0; i < items.length; i++) {
      const key = items[i]!.idempotencyKey;
      if (key === null) continue;
      // Two different items under one key in one request is a client bug, not a retry.
      const first = keys.get(key);
      if (first !== undefined && !sameContent(items[first]!, items[i]!)) {
        ctx.addIssue({ code: 'custom', path: ['items', i, 'idempotencyKey'], message: `already used by items[${first}] for different feedback`, input: key });
        return;
      }
      keys.set(key, i);
    }
  });

// The schema's output is the item every consumer already takes.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _sameItem: Same<z.output<typeof feedbackItemSchema>, FeedbackItem> = true;
void _sameItem;

/** One feedback item (messages name the field: `label: contains a NUL byte`). */
export function checkFeedbackItem(body: unknown): Checked<FeedbackItem> {
  return check(feedbackItemSchema, body);
}

export function checkFeedbackBatch(body: unknown): Checked<FeedbackItem[]> {
  const r = check(feedbackBatchSchema, body);
  return r.ok ? { ok: true, value: r.value.items } : r;
}

/** Equal in everything a client chose (the idempotency contract compares these). */
export function sameContent(a: Omit<FeedbackItem, 'idempotencyKey'>, b: Omit<FeedbackItem, 'idempotencyKey'>): boolean {
  return (
    a.predictionId === b.predictionId &&
    a.kind === b.kind &&
    a.value === b.value &&
    a.label === b.label &&
    a.event === b.event &&
    a.comment === b.comment &&
    a.source === b.source &&
    a.unitKey === b.unitKey
  );
}
