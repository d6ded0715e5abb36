/**
 * The feedback channels a client may send and the one-line checks at the edge. Every message
 * names the field (with its item index in a batch), so a client can fix the one thing wrong.
 */

import { checkText } from '../text/storable';

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

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

const FIELDS = ['predictionId', 'kind', 'value', 'label', 'event', 'comment', 'source', 'unitKey', 'idempotencyKey'] as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Event names are identifiers a dashboard groups by, not prose.
const EVENT_NAME = /^[A-Za-z][A-Za-z0-9_.:-]*$/;

const fail = (message: string): { ok: false; message: string } => ({ ok: false, message });

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optionalString(at: string, v: unknown, max: number): Checked<string | null> {
  if (v === undefined || v === null) return { ok: true, value: null };
  if (typeof v !== 'string' || v.length === 0 || v.length > max) return fail(`${at}: must be a non-empty string of at most ${max} characters`);
  const bad = checkText(at, v);
  return bad ? fail(bad) : { ok: true, value: v };
}

/** One feedback item; `at` prefixes field names (`items[3].` in a batch). */
export function checkFeedbackItem(body: unknown, at = ''): Checked<FeedbackItem> {
  if (!isObject(body)) return fail(`${at ? at.slice(0, -1) : 'body'}: expected a JSON object with predictionId and kind`);
  for (const key of Object.keys(body)) {
    if (!(FIELDS as readonly string[]).includes(key)) return fail(`${at}${key}: unknown field (expected ${FIELDS.join(', ')})`);
  }
  if (typeof body.predictionId !== 'string' || !UUID.test(body.predictionId)) return fail(`${at}predictionId: must be the UUID a predict response returned`);
  const kind = body.kind as FeedbackKind;
  if (!FEEDBACK_KINDS.includes(kind)) return fail(`${at}kind: must be one of ${FEEDBACK_KINDS.join(', ')}`);

  let value: number | null = null;
  if (body.value !== undefined && body.value !== null) {
    if (typeof body.value !== 'number' || !Number.isFinite(body.value)) return fail(`${at}value: must be a finite number`);
    value = body.value;
  }
  if (kind === 'rating' && (value === null || value < 1 || value > 5)) return fail(`${at}value: a rating must be a number from 1 to 5`);
  if (kind === 'dwell' && (value === null || value < 0)) return fail(`${at}value: dwell must be a number of seconds ≥ 0`);

  const label = optionalString(`${at}label`, body.label, MAX_LABEL_LENGTH);
  if (!label.ok) return label;
  if (kind === 'label' && label.value === null) return fail(`${at}label: required with kind label (the true class)`);
  if (kind !== 'label' && label.value !== null) return fail(`${at}label: only allowed with kind label`);

  const event = optionalString(`${at}event`, body.event, MAX_EVENT_LENGTH);
  if (!event.ok) return event;
  if (kind === 'event' && event.value === null) return fail(`${at}event: required with kind event (the action's name, e.g. add_to_cart)`);
  if (kind !== 'event' && event.value !== null) return fail(`${at}event: only allowed with kind event`);
  if (event.value !== null && !EVENT_NAME.test(event.value)) return fail(`${at}event: must start with a letter and hold only letters, digits, _ . : -`);

  let comment: string | null = null;
  if (body.comment !== undefined && body.comment !== null) {
    if (kind !== 'comment') return fail(`${at}comment: only allowed with kind comment`);
    if (typeof body.comment !== 'string' || body.comment.trim().length === 0 || body.comment.length > MAX_COMMENT_LENGTH) {
      return fail(`${at}comment: must be non-blank text of at most ${MAX_COMMENT_LENGTH} characters`);
    }
    const bad = checkText(`${at}comment`, body.comment);
    if (bad) return fail(bad);
    comment = body.comment;
  } else if (kind === 'comment') return fail(`${at}comment: required with kind comment (the text)`);

  const source = optionalString(`${at}source`, body.source, MAX_KEY_LENGTH);
  if (!source.ok) return source;
  const unitKey = optionalString(`${at}unitKey`, body.unitKey, MAX_KEY_LENGTH);
  if (!unitKey.ok) return unitKey;
  const idempotencyKey = optionalString(`${at}idempotencyKey`, body.idempotencyKey, MAX_KEY_LENGTH);
  if (!idempotencyKey.ok) return idempotencyKey;

  return {
    ok: true,
    value: {
      predictionId: body.predictionId.toLowerCase(),
      kind,
      value,
      label: label.value,
      event: event.value,
      comment,
      source: source.value,
      unitKey: unitKey.value,
      idempotencyKey: idempotencyKey.value,
    },
  };
}

/** `{ items: [...] }`: all valid or none stored, so a client never has to work out which half landed. */
export function checkFeedbackBatch(body: unknown): Checked<FeedbackItem[]> {
  if (!isObject(body)) return fail('body: expected a JSON object with items');
  for (const key of Object.keys(body)) if (key !== 'items') return fail(`${key}: unknown field (expected items)`);
  if (!Array.isArray(body.items) || body.items.length === 0) return fail('items: expected a non-empty array of feedback items');
  if (body.items.length > MAX_BATCH_ITEMS) return fail(`items: at most ${MAX_BATCH_ITEMS} per request, got ${body.items.length}`);
  const out: FeedbackItem[] = [];
  const keys = new Map<string, number>();
  for (let i = 0; i < body.items.length; i++) {
    const item = checkFeedbackItem(body.items[i], `items[${i}].`);
    if (!item.ok) return item;
    const key = item.value.idempotencyKey;
    if (key !== null) {
      // Two different items under one key in one request is a client bug, not a retry.
      const first = keys.get(key);
      if (first !== undefined && !sameContent(out[first]!, item.value)) return fail(`items[${i}].idempotencyKey: already used by items[${first}] for different feedback`);
      keys.set(key, i);
    }
    out.push(item.value);
  }
  return { ok: true, value: out };
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
