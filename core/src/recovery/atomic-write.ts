import { randomUUID } from "node:crypto";
import { join } from "node:path";
import type { DurableFileSystem } from "./durable-fs.js";

/**
 * Writes `bytes` to `directory/name` so that a crash leaves either the old file or the new one,
 * never half of it: a hidden temporary file, `fsync`, `rename` over the target, `fsync` of the
 * folder (which makes the rename itself durable).
 *
 * @example
 * await writeFileAtomically(nodeFileSystem, "/ckpt", "checkpoint-0000000000003000.ckpt", bytes);
 */
export async function writeFileAtomically(
  fs: DurableFileSystem,
  directory: string,
  name: string,
  bytes: Uint8Array,
): Promise<void> {
  const temporary = join(directory, `.${name}.${randomUUID()}.tmp`);
  try {
    const file = await fs.open(temporary, "create");
    try {
      await file.write(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    await fs.rename(temporary, join(directory, name));
  } catch (error) {
    await fs.remove(temporary).catch(() => undefined);
    throw error;
  }
  await fs.syncDirectory(directory);
}

/**
 * True for the temporary files `writeFileAtomically` leaves behind when a crash interrupts it.
 *
 * @example
 * isTemporaryFile(".checkpoint-0000000000003000.ckpt.4b1c….tmp"); // true
 */
export function isTemporaryFile(name: string): boolean {
  return name.startsWith(".") && name.endsWith(".tmp");
}
