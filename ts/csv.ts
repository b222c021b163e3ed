// CSV as pandas.read_csv and spreadsheets read it: a header row, RFC 4180 quoting where needed.
const cell = (value: unknown) => {
  const text = value === null || value === undefined ? "" : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

export function toCsv<K extends string>(columns: readonly K[], rows: readonly Partial<Record<K, unknown>>[]): string {
  return [columns.join(","), ...rows.map((row) => columns.map((c) => cell(row[c])).join(","))].join("\n") + "\n";
}
