/** A square grayscale image with values in [0, 1] as text, for printing generated digits. */
export function asciiImage(pixels: ArrayLike<number>, size: number): string {
  const shades = ' .:-=+*#%@';
  const rows: string[] = [];
  // Every other row: terminal cells are about twice as tall as wide.
  for (let r = 0; r < size; r += 2) {
    let row = '';
    for (let c = 0; c < size; c++) row += shades[Math.max(0, Math.min(9, Math.floor(pixels[r * size + c] * 10)))];
    rows.push(row);
  }
  return rows.join('\n');
}
