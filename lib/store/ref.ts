/** A ref: which blob a store name is, with its size, checked on every download. */
import { createHash } from 'node:crypto';
import { z } from 'zod';

export const StoreRefSchema = z.object({
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lowercase hex digits'),
  size: z.number().int().nonnegative(),
});
export type StoreRef = z.infer<typeof StoreRefSchema>;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function refOf(bytes: Uint8Array): StoreRef {
  return { sha256: sha256Hex(bytes), size: bytes.byteLength };
}

export function parseRef(name: string, bytes: Uint8Array): StoreRef {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new Error(`store ref of ${name} is not JSON: ${(err as Error).message}`);
  }
  const r = StoreRefSchema.safeParse(raw);
  if (!r.success) throw new Error(`store ref of ${name} is malformed: ${r.error.issues.map((i) => `${i.path.join('.') || 'ref'}: ${i.message}`).join('; ')}`);
  return r.data;
}

/** Downloaded bytes are trusted only if they are the blob the ref names (a truncated or swapped body fails here). */
export function checkBlob(name: string, ref: StoreRef, bytes: Uint8Array): void {
  if (bytes.byteLength !== ref.size) throw new Error(`store blob of ${name} has ${bytes.byteLength} bytes, its ref says ${ref.size}`);
  const got = sha256Hex(bytes);
  if (got !== ref.sha256) throw new Error(`store blob of ${name} has sha256 ${got}, its ref says ${ref.sha256}`);
}
