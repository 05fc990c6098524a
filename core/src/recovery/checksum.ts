import * as zlib from "node:zlib";

type Crc32 = (data: Uint8Array, value?: number) => number;

// node:zlib has crc32 from Node 20.15 / 22.2; older versions use the table below (same result).
const nativeCrc32 = (zlib as { crc32?: Crc32 }).crc32;

let table: Uint32Array | undefined;

function crcTable(): Uint32Array {
  if (table !== undefined) return table;
  table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

/**
 * The CRC-32 (IEEE, as zlib and gzip compute it) of `data`, as an unsigned 32-bit integer.
 *
 * @example
 * crc32(new TextEncoder().encode("123456789")); // 0xcbf43926
 */
export function crc32(data: Uint8Array): number {
  if (nativeCrc32 !== undefined) return nativeCrc32(data) >>> 0;
  return crc32Portable(data);
}

/**
 * The CRC-32 computed in TypeScript (the fallback where `zlib.crc32` is missing).
 *
 * @example
 * crc32Portable(new Uint8Array([1, 2, 3])) === crc32(new Uint8Array([1, 2, 3])); // true
 */
export function crc32Portable(data: Uint8Array): number {
  const lookup = crcTable();
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) {
    crc = (lookup[(crc ^ (data[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}
