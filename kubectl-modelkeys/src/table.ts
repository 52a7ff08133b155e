// Plain-text tables as kubectl prints them: upper-case headers, columns padded with three spaces.

/** Renders rows under headers; an empty cell prints as "-". */
export function table(
  headers: readonly string[],
  rows: readonly (readonly (string | undefined)[])[],
): string {
  const cells = [headers.map((h) => h.toUpperCase()), ...rows.map((r) => r.map((c) => (c ? c : "-")))];
  const widths = headers.map((_, col) => Math.max(...cells.map((row) => (row[col] ?? "").length)));
  return cells
    .map((row) =>
      row
        .map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd((widths[col] ?? 0) + 3)))
        .join("")
        .trimEnd(),
    )
    .join("\n");
}
