import { murmur3 } from "../kernels/murmur3.js";
import { canonicalKey } from "./canonical-key.js";

const encoder = new TextEncoder();
const int64 = new DataView(new ArrayBuffer(8));
const int64Bytes = new Uint8Array(int64.buffer);
let utf8 = new Uint8Array(256);
const MIN_I64 = -(2n ** 63n);
const MAX_I64 = 2n ** 63n - 1n;

/**
 * The partition in `0..numPartitions` a key belongs to: MurmurHash3 x86_32 (seed 0) modulo
 * `numPartitions`, over bytes that are the same for equal keys and match the kernels:
 * strings hash their UTF-8 bytes (as `hashPartitionUtf8`); integers (safe-integer numbers, `-0`
 * included, and bigints in the 64-bit range) hash their 8 little-endian bytes (as `hashPartitionI64`); every
 * other key hashes the UTF-8 bytes of its canonical text (`canonicalKey`).
 *
 * @example
 * partitionOfKey("hello", 7); // 0x248bfa47 % 7
 */
export function partitionOfKey(key: unknown, numPartitions: number): number {
  if (numPartitions === 1) return 0;
  return hashKey(key) % numPartitions;
}

/**
 * The unsigned 32-bit hash `partitionOfKey` reduces modulo the partition count.
 *
 * @example
 * hashKey("hello"); // 0x248bfa47
 */
export function hashKey(key: unknown): number {
  if (typeof key === "string") return hashUtf8(key);
  if (typeof key === "number" && Number.isSafeInteger(key)) {
    int64.setBigInt64(0, BigInt(key), true);
    return murmur3(int64Bytes);
  }
  if (typeof key === "bigint" && key >= MIN_I64 && key <= MAX_I64) {
    int64.setBigInt64(0, key, true);
    return murmur3(int64Bytes);
  }
  return hashUtf8(canonicalKey(key));
}

function hashUtf8(text: string): number {
  // Worst case three bytes per UTF-16 unit; grow the shared buffer instead of allocating per key.
  const length = text.length;
  if (length * 3 > utf8.length) utf8 = new Uint8Array(length * 3);
  // An ASCII key (most are) is its own UTF-8: copied by hand, cheaper than a call to the encoder
  // for the short strings keys usually are.
  for (let i = 0; i < length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0x80) {
      const { written } = encoder.encodeInto(text, utf8);
      return murmur3(utf8, 0, written);
    }
    utf8[i] = unit;
  }
  return murmur3(utf8, 0, length);
}
