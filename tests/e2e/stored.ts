// What the page's origin has in localStorage, read the way a test needs it:
// raw, or with Confab's packed entries unpacked by the browser's own zlib.
import type { Page } from '@playwright/test';

/** Every localStorage entry of the page's origin. */
export async function storage(page: Page): Promise<Record<string, string>> {
  return page.evaluate(() => {
    const all: Record<string, string> = {};
    for (let i = 0; i < localStorage.length; i++) {
      const key = localStorage.key(i)!;
      all[key] = localStorage.getItem(key)!;
    }
    return all;
  });
}

/**
 * `entries` with packed session bodies and conversation records (schema 3,
 * `~z1` + 15 bits per code unit + zlib) unpacked by the browser's own zlib
 * (`DecompressionStream`), independent of the app's.
 */
export async function unpacked(page: Page, entries: Record<string, string>): Promise<Record<string, string>> {
  return page.evaluate(async (entries) => {
    async function unpack(text: string): Promise<string> {
      if (!text.startsWith('~z1')) return text;
      const bytes: number[] = [];
      let acc = 0;
      let bits = 0;
      for (const ch of text.slice(3)) {
        acc = ((acc << 15) | (ch.charCodeAt(0) - 0x4000)) & 0x3fffff;
        bits += 15;
        while (bits >= 8) {
          bits -= 8;
          bytes.push((acc >> bits) & 0xff);
        }
      }
      const view = new DataView(new Uint8Array(bytes).buffer);
      const zlibLength = view.getUint32(4, true);
      const zlib = new Uint8Array(bytes.slice(8, 8 + zlibLength));
      const stream = new Blob([zlib]).stream().pipeThrough(new DecompressionStream('deflate'));
      return new Response(stream).text();
    }
    const all: Record<string, string> = {};
    for (const [key, value] of Object.entries(entries)) all[key] = await unpack(value);
    return all;
  }, entries);
}

/** The stored text of every entry of the page's origin, unpacked. */
export async function unpackedStorage(page: Page): Promise<Record<string, string>> {
  return unpacked(page, await storage(page));
}

/** Keys of stored session bodies. */
export function sessionKeys(all: Record<string, string>): string[] {
  return Object.keys(all).filter((k) => k.startsWith('confab:session:'));
}
