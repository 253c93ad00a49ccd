// Splitting a record over several keyring items for stores with a small item limit (Windows: 1280 UTF-16
// units, less than an SSO token, refresh token and client secret together). The main item then holds a
// header naming the part count; parts hold the JSON text in order.

const HEADER_KEY = 'stormtunnelParts';

export function partsHeader(count: number): string {
  return JSON.stringify({ [HEADER_KEY]: count });
}

/** The part count if `text` is a parts header, else undefined (a plain record). */
export function readPartsHeader(text: string): number | undefined {
  if (!text.startsWith(`{"${HEADER_KEY}"`)) return undefined;
  try {
    const value = (JSON.parse(text) as Record<string, unknown>)[HEADER_KEY];
    return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Pieces of at most `max` UTF-16 units, never cutting a surrogate pair (which would not encode). */
export function splitText(text: string, max: number): string[] {
  if (max < 2) throw new RangeError(`part size ${max} is too small`);
  const parts: string[] = [];
  let at = 0;
  while (at < text.length) {
    let end = Math.min(at + max, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    parts.push(text.slice(at, end));
    at = end;
  }
  return parts;
}
