/**
 * How the text report is laid out on a terminal: lines wrapped at {@link REPORT_WIDTH} columns with
 * a hanging indent, and the severity labels and INCOMPLETE in colour when the output is a
 * terminal that wants colour. Pure: the caller says whether colour is wanted ({@link colourWanted}).
 */

/** The report's line width, in columns: wide enough for the subnet ids and the tables. */
export const REPORT_WIDTH = 100;

/**
 * Wraps one line at `width` columns, at spaces. A continuation line keeps the line's indent plus
 * two columns (a hanging indent), so that a bullet's (`- `) text lines up under its first word and
 * a labelled line (`First fix to try: …`) reads as one block. A word longer than the room left (an
 * id list, a URL) is not cut: it overflows rather than becoming wrong to copy.
 */
export function wrapLine(line: string, width = REPORT_WIDTH): string[] {
  if (line.length <= width) return [line];
  const indent = /^ */.exec(line)?.[0] ?? '';
  const hanging = `${indent}  `;
  const words = line.slice(indent.length).split(' ');
  const out: string[] = [];
  let current = indent;
  let empty = true;
  for (const word of words) {
    if (!empty && current.length + 1 + word.length > width) {
      out.push(current);
      current = hanging + word;
    } else {
      current = empty ? current + word : `${current} ${word}`;
    }
    empty = false;
  }
  out.push(current);
  return out;
}

/** Every line of a block wrapped (see {@link wrapLine}). */
export function wrapLines(lines: readonly string[], width = REPORT_WIDTH): string[] {
  return lines.flatMap((l) => l.split('\n')).flatMap((l) => wrapLine(l, width));
}

/**
 * Whether to colour: only on a terminal (stdout a TTY), never when `NO_COLOR` is set to anything
 * but the empty string (https://no-color.org), nor on a terminal that says it has no colour
 * (`TERM=dumb`). The caller also never colours JSON.
 */
export function colourWanted(isTTY: boolean | undefined, env: Readonly<Record<string, string | undefined>>): boolean {
  if (isTTY !== true) return false;
  if ((env['NO_COLOR'] ?? '') !== '') return false;
  return env['TERM'] !== 'dumb';
}

// SGR codes (ECMA-48): 1 bold, 31 red, 33 yellow, 35 magenta, 36 cyan, 0 reset.
const PAINT: Record<string, string> = {
  CRITICAL: '\u001b[1;31m',
  WARNING: '\u001b[33m',
  INFO: '\u001b[36m',
  INCOMPLETE: '\u001b[1;35m',
};
const RESET = '\u001b[0m';

/**
 * The report with its severity labels (CRITICAL, WARNING, INFO, where a line starts with one) and
 * every INCOMPLETE in colour. Applied after wrapping: the codes take no columns on a terminal.
 */
export function colourReport(text: string): string {
  return text
    .replace(/^( *)(CRITICAL|WARNING|INFO)(?=[:( ])/gm, (_, indent: string, label: string) => `${indent}${PAINT[label]}${label}${RESET}`)
    .replace(/\bINCOMPLETE\b/g, `${PAINT['INCOMPLETE']}INCOMPLETE${RESET}`);
}
