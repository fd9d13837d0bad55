/**
 * The key a case-insensitive search compares: lower case, "ё" as "е" (Russian users type
 * either), compatibility forms folded, runs of spaces collapsed. Queries go through it too.
 */
export function searchKey(value: string): string {
  return value.normalize("NFKC").toLowerCase().replace(/ё/g, "е").replace(/\s+/g, " ").trim();
}

/** Text to match literally inside a regular expression. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * A read-model condition "contains this text", written as a bare regular expression: the form
 * every store reads alike: mongo-java-server compiles a RegExp inside `$regex` as the text of a
 * document (500 on any search).
 */
export function containing(text: string): RegExp {
  return new RegExp(escapeRegExp(text));
}
