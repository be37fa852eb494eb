import { UsageError } from "@tessera/core";

/**
 * The lines of a JSON Lines file given with a flag, parsed, blank lines left out. `where` names
 * the flag, file and line for error messages; a line that is not JSON is a usage error.
 */
export function readJsonLines(text: string, label: string): { value: unknown; where: string }[] {
  const lines: { value: unknown; where: string }[] = [];
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "") continue;
    const where = `${label} line ${index + 1}`;
    try {
      lines.push({ value: JSON.parse(line), where });
    } catch {
      throw new UsageError(`${where}: not JSON`);
    }
  }
  return lines;
}
