/**
 * Names found by their shape where the tagger cuts them or does not know them: a quoted nickname
 * inside a person's name, a saint's name ("St Mary's Hospital"), and an organisation's name ending
 * in a legal or industry word ("Corvane Therapeutics", "Brackwater Athletic").
 */
import type { EntityType } from '../types';

export interface ShapedName {
  text: string;
  start: number;
  end: number;
  type?: EntityType;
}

const WORD = String.raw`\p{Lu}[\p{L}-]*`;

/**
 * The last word of an organisation's name that no person or place ends in: legal forms and the
 * words firms, clubs and institutions name their trade by. "Bank" and "Hospital" name an
 * organisation; "Observatory", "Valley" or "Museum" can be a place as well, so they are not here.
 */
export const ORGANISATION_SUFFIX = new RegExp(
  String.raw`\s(?:${[
    'Inc', 'Incorporated', 'Ltd', 'Limited', 'LLC', 'plc', 'PLC', 'AG', 'GmbH', 'SA', 'NV', 'Corp', 'Corporation', 'Company', 'Co', 'Group', 'Holdings', 'Partners',
    'Therapeutics', 'Biosciences', 'Biotech', 'Pharma', 'Pharmaceuticals', 'Labs', 'Laboratories', 'Diagnostics', 'Medical', 'Health',
    'Games', 'Studios', 'Studio', 'Pictures', 'Films', 'Records', 'Media', 'Publishing', 'Publishers', 'Press', 'Books',
    'Bank', 'Bancorp', 'Capital', 'Insurance', 'Mutual', 'Trust', 'Society', 'Foundation', 'Association', 'Hospital',
    'Athletic', 'Athletics', 'FC', 'RFC', 'United',
    'Optics', 'Robotics', 'Systems', 'Technologies', 'Software', 'Electronics', 'Industries', 'Motors', 'Airlines', 'Logistics', 'Freight',
    'Growers', 'Foods', 'Farms', 'Brewery', 'Bakery', 'Dairy', 'Textiles', 'Energy', 'Interactive', 'Entertainment', 'Bebidas', 'AgriFoods',
    // Professions' and trades' firms, and institutions of learning (patterns/6).
    'Architects', 'Associates', 'Partnership', 'Consulting', 'Consultants', 'Engineering', 'Construction', 'Bio', 'Biologics', 'Genomics', 'Analytics',
    'Aerospace', 'Aviation', 'Shipping', 'Transit', 'Transportation', 'Railways', 'Mining', 'Minerals', 'Metals', 'Chemicals', 'Brewing', 'Distillers',
    'Works', 'University', 'College', 'Institute', 'Academy',
    // Trades' words firms end their names with (patterns/7).
    'Dynamics', 'Solutions', 'Services', 'Ventures', 'Enterprises', 'Networks', 'Instruments', 'Devices', 'Materials', 'Audio', 'Dental',
  ].join('|')})$`,
);

/** "Gabrielle 'Coco' Chanel", 'Earvin "Magic" Johnson': first name, quoted nickname, surname. */
const NICKNAMED = new RegExp(String.raw`\b${WORD}\s+['"‘“]${WORD}['"’”]\s+${WORD}`, 'gu');
/** "St Mary's Hospital", "St. Aldric's": a saint's name is one name with what follows it, never a person. */
const SAINTS = new RegExp(String.raw`\bSt\.?\s+${WORD}['’]s(?:\s+${WORD})*`, 'gu');

export function shapedNames(text: string): ShapedName[] {
  const out: ShapedName[] = [];
  for (const m of text.matchAll(NICKNAMED)) out.push({ text: m[0], start: m.index!, end: m.index! + m[0].length, type: 'person' });
  for (const m of text.matchAll(SAINTS)) {
    out.push({ text: m[0], start: m.index!, end: m.index! + m[0].length, ...(ORGANISATION_SUFFIX.test(m[0]) ? { type: 'organisation' as const } : {}) });
  }
  return out;
}

/**
 * The type a name's shape gives it: an organisation when it ends in an organisation word. Only
 * names the tagger left untyped or typed as a person or place (a surname or town inside the name:
 * "Pennock Bank", "Harcastle RFC") take it.
 */
export function typeByShape(name: string, tagged: EntityType | undefined): EntityType | undefined {
  if (tagged === 'date' || tagged === 'product' || tagged === 'organisation') return tagged;
  // "P&G", "AT&T": capitals joined by an ampersand are a firm's initials (patterns/7).
  if (tagged === undefined && /^\p{Lu}{1,4}&\p{Lu}{1,4}$/u.test(name)) return 'organisation';
  return ORGANISATION_SUFFIX.test(name) ? 'organisation' : tagged;
}
