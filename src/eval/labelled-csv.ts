// Reads a labelled CSV (RFC 4180, header row) into text/label pairs.

import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';

export interface LabelledText {
  text: string;
  label: string;
}

export function readLabelledCsv(file: string, textColumn: string, labelColumn: string): LabelledText[] {
  const rows = parse(readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true, relax_column_count: true }) as Array<
    Record<string, string>
  >;
  if (rows.length > 0) {
    for (const col of [textColumn, labelColumn]) {
      if (!(col in rows[0])) throw new Error(`${file}: no column "${col}" (columns: ${Object.keys(rows[0]).join(', ')})`);
    }
  }
  return rows.map((r) => ({ text: r[textColumn] ?? '', label: r[labelColumn] ?? '' }));
}
