/**
 * Where a name starts and ends when the tagger's span is wrong about it (patterns/7): an ampersand
 * inside a firm's name, a place fused to "-based", and a descriptor ("Swiss group", "the Finnish
 * maker") taken into the name it describes. Each works on the shape of the span, not on known names.
 */
import type { EntityType } from '../types';

interface Named {
  text: string;
  start: number;
  end: number;
  type?: EntityType;
  value?: string;
}

/**
 * "Levi Strauss & Co", "Marks & Spencer": a span opening with "&" is the tail of the name before it
 * (the tagger reads "& Co" as a firm of its own); the two are one organisation's name. With no
 * name right before it, it names nothing.
 */
export function joinAmpersand<T extends Named>(ms: T[], text: string): T[] {
  const out: T[] = [];
  for (const m of ms) {
    if (!/^&\s/.test(m.text)) {
      out.push(m);
      continue;
    }
    const prev = out[out.length - 1];
    if (prev && prev.type !== 'date' && prev.type !== 'product' && /^\s$/.test(text.slice(prev.end, m.start))) {
      out[out.length - 1] = { ...prev, text: text.slice(prev.start, m.end), end: m.end, type: 'organisation' };
    }
  }
  return out;
}

/**
 * "the Huddersfield-based Loomwright Mills", "an Aarhus-based maker": the place before "-based" is a
 * name of its own (where the firm is based), not the start of the firm's name.
 */
export function splitBased<T extends Named>(ms: T[]): T[] {
  const out: T[] = [];
  for (const m of ms) {
    const b = /^(\p{Lu}[\p{L}'’. -]*?)-based(?:\s+(.*))?$/u.exec(m.text);
    if (!b || m.type === 'date' || m.type === 'product') {
      out.push(m);
      continue;
    }
    out.push({ ...m, text: b[1]!, end: m.start + b[1]!.length, type: 'place' });
    if (b[2] && /^\p{Lu}/u.test(b[2])) out.push({ ...m, text: b[2], start: m.end - b[2].length, end: m.end, type: m.type === 'place' ? undefined : m.type });
  }
  return out;
}

/** Lower-case words a name may hold between its capitalised ones ("Bank of America", "Augustus the Strong"). */
const PARTICLE = '(?:of|de|des|du|la|le|les|von|van|der|den|di|da|del|della|dos|das|do|es|sur|sous|ter|aan|op|the|and|upon|on|in|en|am|an|bin|ibn|al|el)';

/**
 * "Swiss group Felsbach Aromatics", "Finnish maker Fiskars": a capitalised word and a lower-case
 * noun before the name are a description of it (a nationality and a kind), not part of it: a name
 * holds no lower-case word but its particles.
 */
export const DESCRIPTOR_LEAD = new RegExp(String.raw`^(?:\p{Lu}[\p{L}-]*\s+)?(?:(?!${PARTICLE}\s)\p{Ll}[\p{L}-]{2,}\s+)+(?=\p{Lu})`, 'u');

/**
 * "the USDA Forest Service", "NASA Ames Research Center": an organisation's initials right before
 * another name (one space) open that name; the tagger reads the rest as a place or a name of its own.
 */
export function joinAcronymPrefix<T extends Named>(ms: T[], text: string): T[] {
  const out: T[] = [];
  for (const m of ms) {
    const prev = out[out.length - 1];
    if (prev && /^\p{Lu}{2,5}$/u.test(prev.text) && prev.type === 'organisation' && m.type !== 'date' && m.type !== 'product' && m.start === prev.end + 1 && text[prev.end] === ' ' && /^\p{Lu}\p{Ll}/u.test(m.text)) {
      out[out.length - 1] = { ...prev, text: text.slice(prev.start, m.end), end: m.end, type: 'organisation' };
      continue;
    }
    out.push(m);
  }
  return out;
}
