/**
 * Entity resolution: each mention becomes an existing graph entity (recording its spelling as
 * an alias when new) or a new entity with a deterministic id. Names are matched on normalised
 * keys, organisation acronyms and, for people, surname plus compatible first names; more than
 * one match is ambiguous and goes to a reviewer rather than being guessed.
 */
import { entityId } from './ids';
import { acronym, firstNamesCompatible, normaliseName, orgShortForm, placeHead } from './normalise';
import type { EntityRef, EntityType } from './types';

export interface KnownEntity {
  id: string;
  name: string;
  type: EntityType;
  aliases: string[];
}

export interface Resolution {
  entity: EntityRef;
  kind: 'existing' | 'alias' | 'new' | 'ambiguous';
  reason: string;
}

export class EntityResolver {
  private readonly pool: KnownEntity[];
  /** Entities this batch introduces: still new to the graph when a later mention meets them. */
  private readonly created = new Set<string>();

  constructor(graph: ReadonlyArray<KnownEntity>) {
    this.pool = graph.map((e) => ({ ...e, aliases: [...e.aliases] }));
  }

  /** Longer names first, so "Tim Cook" meets "Timothy Cook" whichever came first in the text. */
  static order<T extends { text: string; type: string }>(mentions: T[]): T[] {
    return [...mentions].sort((a, b) => a.type.localeCompare(b.type) || b.text.length - a.text.length || a.text.localeCompare(b.text));
  }

  resolve(text: string, type: EntityType): Resolution {
    const key = normaliseName(text, type);
    const sameType = this.pool.filter((e) => e.type === type);
    const exact = sameType.filter((e) => normaliseName(e.name, type) === key || e.aliases.some((a) => normaliseName(a, type) === key));
    if (exact.length === 1) return this.merged(exact[0]!, text, 'existing', `"${text}" is ${exact[0]!.name} (${exact[0]!.id})`);
    if (exact.length > 1) return this.ambiguous(text, exact);

    const fuzzy = sameType.filter((e) => fuzzyMatch(text, key, type, e));
    if (fuzzy.length === 1) return this.merged(fuzzy[0]!, text, 'alias', `"${text}" merged into ${fuzzy[0]!.name} (${fuzzy[0]!.id}) as an alias`);
    if (fuzzy.length > 1) return this.ambiguous(text, fuzzy);

    const name = type === 'date' ? key : text.trim().replace(/[.,;:!?]+$/, '');
    const entity: KnownEntity = { id: entityId(type, key), name, type, aliases: [] };
    this.pool.push(entity);
    this.created.add(entity.id);
    return { entity: { id: entity.id, name, type, isNew: true }, kind: 'new', reason: `"${text}" is a new ${type}` };
  }

  private merged(e: KnownEntity, text: string, kind: 'existing' | 'alias', reason: string): Resolution {
    const surface = text.trim().replace(/[.,;:!?]+$/, '');
    const known = e.name === surface || e.aliases.includes(surface);
    // A surname alone is a reference, not a name: recording "Curie" would make the next Curie ambiguous.
    const isReference = e.type === 'person' && !surface.includes(' ') && e.name.includes(' ');
    const alias = known || isReference || e.type === 'date' ? undefined : surface;
    if (alias) e.aliases.push(alias);
    const isNew = this.created.has(e.id);
    return { entity: { id: e.id, name: e.name, type: e.type, isNew, ...(alias ? { alias } : {}) }, kind: alias && kind === 'existing' ? 'alias' : kind, reason };
  }

  private ambiguous(text: string, options: KnownEntity[]): Resolution {
    const sorted = [...options].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    const pick = sorted[0]!;
    return {
      entity: { id: pick.id, name: pick.name, type: pick.type, isNew: this.created.has(pick.id) },
      kind: 'ambiguous',
      reason: `"${text}" is ambiguous: ${sorted.map((e) => `${e.name} (${e.id})`).join(', ')}; read as ${pick.name}`,
    };
  }
}

function simplifyRegion(n: string): string {
  return normaliseName(n.slice(n.indexOf(',') + 1), 'place');
}

function fuzzyMatch(text: string, key: string, type: EntityType, e: KnownEntity): boolean {
  const names = [e.name, ...e.aliases];
  if (type === 'organisation') {
    const mine = acronym(text);
    // "IBM" / "International Business Machines" by initials; "Toyota" / "Toyota Motor Corporation" by short form.
    const short = orgShortForm(text) ?? key;
    return names.some((n) => acronym(n) === key || (mine !== undefined && normaliseName(n, type) === mine) || (orgShortForm(n) ?? normaliseName(n, type)) === short);
  }
  if (type === 'place') {
    // "Milan, Ohio" and "Milan": one place with and without its region (two regions are two places).
    const region = (n: string) => (n.includes(',') ? simplifyRegion(n) : undefined);
    const known = names.map(region).find((r) => r !== undefined);
    const mine = region(text);
    if (known !== undefined && mine !== undefined && known !== mine) return false;
    return names.some((n) => placeHead(n) === placeHead(text));
  }
  if (type === 'person') {
    const parts = key.split(' ');
    return names.some((n) => {
      const other = normaliseName(n, type).split(' ');
      if (other[other.length - 1] !== parts[parts.length - 1]) return false;
      if (parts.length === 1 || other.length === 1) return true;
      return firstNamesCompatible(parts[0]!, other[0]!);
    });
  }
  return false;
}
