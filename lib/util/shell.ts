/** Quoting for a POSIX shell on the remote side. */

/** Quotes a word for a POSIX shell: `it's` → `'it'\''s'`. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
