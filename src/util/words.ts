/** Counts in messages, in correct English: "1 image", "2 images", "the 1 image", "all 3 images". */

/** `n word` with the plural when n is not 1 (`plural` for irregular words). */
export function counted(n: number, word: string, plural = `${word}s`): string {
  return `${n} ${n === 1 ? word : plural}`;
}

/** The whole of a set: "the 1 image", "both images", "all 3 images". */
export function allOf(n: number, word: string, plural = `${word}s`): string {
  return n === 1 ? `the 1 ${word}` : n === 2 ? `both ${plural}` : `all ${n} ${plural}`;
}

/** A part of a set: "1 of 3 images", "2 of 2 images", with the verb agreeing with the part ("needs"/"need"). */
export function partOf(part: number, whole: number, word: string, verb?: [singular: string, plural: string], plural = `${word}s`): string {
  const phrase = `${part} of ${whole} ${whole === 1 ? word : plural}`;
  return verb ? `${phrase} ${part === 1 ? verb[0] : verb[1]}` : phrase;
}
