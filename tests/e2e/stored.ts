// What the page's origin has stored, read the way a test needs it: raw, or
// with Confab's packed entries unpacked by the browser's own zlib.
//
// Format 6 keeps session bodies and conversation records in IndexedDB
// (`confab-store`, object store `kv`), with localStorage as their journal:
// a value not yet moved there is still in localStorage, and an empty value
// there marks a removal not yet committed.
import type { Page } from '@playwright/test';

/** Every stored entry of the page's origin, as the app reads it: the
 * bulk store's, then localStorage's over them. */
export async function storage(page: Page): Promise<Record<string, string>> {
  return page.evaluate(async () => {
    const all: Record<string, string> = {};
    const bulk = (k: string) => k.startsWith('confab:session:') || k.startsWith('confab:conversation:');
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('confab-store', 1);
      open.onupgradeneeded = () => open.result.createObjectStore('kv');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const tx = db.transaction('kv');
    const keys = tx.objectStore('kv').getAllKeys();
    const values = tx.objectStore('kv').getAll();
    await new Promise((resolve) => (tx.oncomplete = resolve));
    db.close();
    keys.result.forEach((key, i) => (all[String(key)] = values.result[i]));
    for (let i = 0; i < localStorage.length; i++) {
      const key = localStorage.key(i)!;
      const value = localStorage.getItem(key)!;
      if (bulk(key) && value === '') delete all[key];
      else all[key] = value;
    }
    return all;
  });
}

/** Every localStorage entry of the page's origin, as it is there. */
export async function localStorageOnly(page: Page): Promise<Record<string, string>> {
  return page.evaluate(() => {
    const all: Record<string, string> = {};
    for (let i = 0; i < localStorage.length; i++) {
      const key = localStorage.key(i)!;
      all[key] = localStorage.getItem(key)!;
    }
    return all;
  });
}

/** Empties the origin's store: localStorage and the bulk store. */
export async function clearStore(page: Page): Promise<void> {
  await page.evaluate(async () => {
    localStorage.clear();
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('confab-store', 1);
      open.onupgradeneeded = () => open.result.createObjectStore('kv');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const tx = db.transaction('kv', 'readwrite');
    tx.objectStore('kv').clear();
    await new Promise((resolve) => (tx.oncomplete = resolve));
    db.close();
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
