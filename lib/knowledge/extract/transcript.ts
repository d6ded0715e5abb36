/**
 * Conversation transcripts: JSON lines, one turn each. Checked line by line so a bad file is
 * refused at the edge with the line and field named, before any workflow starts.
 */
import type { Checked } from '../../pipeline/training-input';

export interface Turn {
  conversation: string;
  turn: number;
  speaker?: string;
  /** Independent source for corroboration; the conversation when absent. */
  source: string;
  text: string;
}

export const MAX_TURNS = 5000;
export const MAX_TURN_CHARS = 20_000;

/** Lines with a `meta` key carry notes (source, licence) and no turn. */
export function parseTranscript(text: string): Checked<Turn[]> {
  const turns: Turn[] = [];
  const seen = new Set<string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    const at = `line ${i + 1}`;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (err) {
      return { ok: false, message: `${at}: not valid JSON (${(err as Error).message})` };
    }
    if (!row || typeof row !== 'object' || Array.isArray(row)) return { ok: false, message: `${at}: expected an object with conversation, turn and text` };
    const r = row as Record<string, unknown>;
    if ('meta' in r) continue;
    if (typeof r.conversation !== 'string' || !r.conversation.trim()) return { ok: false, message: `${at}: field "conversation" must be a non-empty string` };
    if (!Number.isInteger(r.turn) || (r.turn as number) < 0) return { ok: false, message: `${at}: field "turn" must be a non-negative integer` };
    if (typeof r.text !== 'string') return { ok: false, message: `${at}: field "text" must be a string` };
    if (r.text.length > MAX_TURN_CHARS) return { ok: false, message: `${at}: field "text" is longer than ${MAX_TURN_CHARS} characters` };
    if (r.speaker !== undefined && typeof r.speaker !== 'string') return { ok: false, message: `${at}: field "speaker" must be a string` };
    if (r.source !== undefined && (typeof r.source !== 'string' || !r.source.trim())) return { ok: false, message: `${at}: field "source" must be a non-empty string` };
    const key = `${r.conversation}\u0000${r.turn}`;
    if (seen.has(key)) return { ok: false, message: `${at}: conversation "${r.conversation}" has turn ${r.turn} twice` };
    seen.add(key);
    turns.push({ conversation: r.conversation, turn: r.turn as number, speaker: r.speaker as string | undefined, source: (r.source as string | undefined) ?? r.conversation, text: r.text });
    if (turns.length > MAX_TURNS) return { ok: false, message: `more than ${MAX_TURNS} turns: split the file into batches` };
  }
  if (turns.length === 0) return { ok: false, message: 'no turns: expected JSON lines with conversation, turn and text' };
  return { ok: true, value: turns };
}
