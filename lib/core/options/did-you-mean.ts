/**
 * @internal The known name closest to `given`, when it is close enough to
 * be a typo (at most a third of its letters edited, and at least one), as
 * `" Did you mean 'port'?"`; otherwise an empty string.
 */
export function didYouMean(given: string, known: readonly string[]): string {
  const allowed = Math.max(1, Math.floor(given.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of known) {
    // Names differing in length by more than `allowed` are at least that many edits apart: skipped, so a key of
    // thousands of characters (from a file) costs nothing.
    if (Math.abs(given.length - name.length) > allowed) continue;
    const distance = editDistance(given.toLowerCase(), name.toLowerCase());
    if (distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  return best !== undefined && bestDistance <= allowed ? ` Did you mean '${best}'?` : '';
}

/** Edits between two names, a swap of neighbouring letters counting as one ('prot' is one from 'port'). Names are short. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        row[j] = Math.min(row[j]!, rows[i - 2]![j - 2]! + 1);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}
