import { DefaultDeserializer } from "node:v8";

type HostObjectReader = { _readHostObject(this: DefaultDeserializer): unknown };

// Node's deserializer reads a typed array or Buffer as a view into the bytes it reads from, so one
// restored array would keep a whole checkpoint file alive for as long as the state holds it.
class OwningDeserializer extends DefaultDeserializer {
  _readHostObject(): unknown {
    const read = (DefaultDeserializer.prototype as unknown as HostObjectReader)._readHostObject;
    const value = read.call(this);
    if (!ArrayBuffer.isView(value)) return value;
    if (Buffer.isBuffer(value)) return Buffer.from(value);
    if (value instanceof DataView) {
      return new DataView(
        value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength),
      );
    }
    return (value as unknown as { slice(): ArrayBufferView }).slice();
  }
}

/**
 * `v8.deserialize`, except that every typed array, Buffer and DataView it makes owns its bytes
 * instead of viewing into `bytes`: for values kept long after the bytes they came from (restored
 * operator state).
 *
 * @example
 * const state = deserializeOwned(entry.state);
 */
export function deserializeOwned(bytes: Uint8Array): unknown {
  const deserializer = new OwningDeserializer(bytes);
  deserializer.readHeader();
  return deserializer.readValue();
}
