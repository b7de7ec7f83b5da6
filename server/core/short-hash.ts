/**
 * A short stable key (16 hex characters) from a long one: two 32-bit FNV-1a lanes with different
 * offset bases. Not cryptographic — for idempotency keys that must fit a `clientMsgId` (64 chars) —
 * and linear in the input with no allocation per byte, so a 10 MB email hashes in milliseconds.
 */
export function shortHash(input: string | Uint8Array): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  if (typeof input === 'string') {
    for (let i = 0; i < input.length; i++) {
      const c = input.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
    }
  } else {
    for (let i = 0; i < input.length; i++) {
      const c = input[i]!;
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
    }
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
