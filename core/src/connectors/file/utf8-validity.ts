import { isUtf8 } from "node:buffer";

/**
 * Where the first byte of `bytes` that is not part of well-formed UTF-8 lies (a stray
 * continuation byte, a sequence cut short, an overlong form, a surrogate or a code point past
 * U+10FFFF), or `undefined` when all of it is UTF-8. Decoding such bytes would silently put
 * U+FFFD in their place.
 *
 * @example
 * firstInvalidUtf8Byte(new Uint8Array([0x63, 0x61, 0x66, 0xe9])); // 3
 * firstInvalidUtf8Byte(new TextEncoder().encode("café")); // undefined
 */
export function firstInvalidUtf8Byte(bytes: Uint8Array): number | undefined {
  if (isUtf8(bytes)) return undefined;
  let index = 0;
  while (index < bytes.length) {
    const length = sequenceLength(bytes, index);
    if (length === 0) return index;
    index += length;
  }
  return undefined;
}

// The length of the well-formed sequence at `index`, or 0 (the ranges of RFC 3629, section 4).
function sequenceLength(bytes: Uint8Array, index: number): number {
  const lead = bytes[index] ?? 0;
  if (lead < 0x80) return 1;
  let length: number;
  let low = 0x80;
  let high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) length = 2;
  else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead === 0xe0) low = 0xa0; // no overlong forms
    if (lead === 0xed) high = 0x9f; // no surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead === 0xf0) low = 0x90; // no overlong forms
    if (lead === 0xf4) high = 0x8f; // nothing past U+10FFFF
  } else return 0;
  for (let offset = 1; offset < length; offset++) {
    const byte = bytes[index + offset];
    if (byte === undefined || byte < low || byte > high) return 0;
    low = 0x80;
    high = 0xbf;
  }
  return length;
}
