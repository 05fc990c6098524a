/**
 * Splits text into lines the way Hadoop's text input does: at `\n`, `\r\n` or `\r`, with no
 * empty last line for a trailing terminator.
 *
 * @example
 * splitLines("a\r\nb\n"); // ["a", "b"]
 */
export function splitLines(text: string): string[] {
  if (text.length === 0) return [];
  const lines = text.split(/\r\n|\n|\r/);
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}
