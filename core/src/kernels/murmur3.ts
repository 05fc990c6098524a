const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/**
 * MurmurHash3 x86_32 of `bytes[start..end)` with `seed`: the same values as the Rust kernel.
 *
 * @example
 * murmur3(new TextEncoder().encode("hello")); // 0x248bfa47
 */
export function murmur3(bytes: Uint8Array, start = 0, end = bytes.length, seed = 0): number {
  let h = seed >>> 0;
  const length = end - start;
  const blockEnd = start + (length & ~3);
  let i = start;
  for (; i < blockEnd; i += 4) {
    const k =
      (bytes[i] as number) |
      ((bytes[i + 1] as number) << 8) |
      ((bytes[i + 2] as number) << 16) |
      ((bytes[i + 3] as number) << 24);
    h ^= mixK(k);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = length & 3;
  if (tail > 0) {
    let k = 0;
    if (tail >= 3) k ^= (bytes[i + 2] as number) << 16;
    if (tail >= 2) k ^= (bytes[i + 1] as number) << 8;
    k ^= bytes[i] as number;
    h ^= mixK(k);
  }
  h ^= length;
  return fmix32(h);
}

function mixK(k: number): number {
  let m = Math.imul(k, C1);
  m = (m << 15) | (m >>> 17);
  return Math.imul(m, C2);
}

function fmix32(input: number): number {
  let h = input;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
