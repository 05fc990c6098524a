/**
 * The number of single-character insertions, deletions, substitutions and swaps of two
 * neighbours that turn `a` into `b` (optimal string alignment distance): a swapped pair counts
 * once, so `passowrd` is as close to `password` as `pasword` is.
 *
 * @example
 * editDistance("pasword", "password"); // 1
 */
export function editDistance(a: string, b: string): number {
  // Three rows suffice: the swap looks two rows back.
  let beforePrevious: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (beforePrevious[j - 2] ?? 0) + 1);
      }
      current.push(best);
    }
    beforePrevious = previous;
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * True when `name` is within the edits a typo makes of `target` (one per four characters, at
 * least one), ignoring case.
 *
 * @example
 * isCloseName("keyy", "key"); // true
 */
export function isCloseName(name: string, target: string): boolean {
  const distance = editDistance(name.toLowerCase(), target.toLowerCase());
  return distance <= Math.max(1, Math.floor(target.length / 4));
}
