/**
 * deb822 control data (Packages indices, Release files, sources): paragraphs
 * separated by blank lines, `Field: value`, continuation lines start with
 * a space or tab. Field names keep their spelling; lookups use that spelling.
 */
export type Paragraph = Record<string, string>;

export function parseDeb822(text: string): Paragraph[] {
  const paragraphs: Paragraph[] = [];
  let current: Paragraph = {};
  let last: string | undefined;
  const flush = () => {
    if (Object.keys(current).length > 0) paragraphs.push(current);
    current = {};
    last = undefined;
  };
  for (const line of text.split("\n")) {
    if (line.trim() === "") {
      flush();
      continue;
    }
    if (line.startsWith("#")) continue;
    if (line.startsWith(" ") || line.startsWith("\t")) {
      if (last === undefined) throw new Error(`deb822: continuation line without a field: ${JSON.stringify(line)}`);
      current[last] += "\n" + line.slice(1);
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) throw new Error(`deb822: not a field: ${JSON.stringify(line)}`);
    last = line.slice(0, colon);
    current[last] = line.slice(colon + 1).trim();
  }
  flush();
  return paragraphs;
}
