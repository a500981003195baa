// The bulk store's page side, `globalThis.__confabBulk`; bulk_store.rs
// says how it works. Inline at the top of index.html: kept short.
globalThis.__confabBulk ??= (() => {
  const X = '', ls = localStorage, held = new Map(), dirty = new Set();
  const bulk = (k) => k !== null && (k.startsWith('confab:session:') || k.startsWith('confab:conversation:'));
  const why = (e) => (e && e.name ? `${e.name}: ${e.message}` : String(e));
  let db, early = [], due = false, busy = false;
  const heard = (k, old) => {
    if (dirty.has(k)) return;
    if (old === X) held.delete(k);
    else if (old !== null) held.set(k, old);
    try {
      const r = db.transaction('kv').objectStore('kv').get(k);
      r.onsuccess = () => dirty.has(k) || (r.result === undefined ? held.delete(k) : held.set(k, r.result));
    } catch {}
  };
  addEventListener('storage', (e) => {
    if (!bulk(e.key) || e.newValue !== null) return;
    if (early) early.push([e.key, e.oldValue]);
    else if (db) heard(e.key, e.oldValue);
  });
  // The snapshot is read once the app asks (`read`), after its first frame:
  // delivering 2,000 conversations' values is a 30-100 ms task, which landed
  // before that frame when the app's code was cached. Opened early still.
  let done, wanted = false;
  const ready = new Promise((resolve) => (done = resolve));
  const end = (reason) => {
    if (reason !== null) (early = null), held.clear();
    done(reason);
  };
  const snapshot = () => {
    let tx;
    try {
      tx = db.transaction('kv');
    } catch (e) {
      return end(why(e));
    }
    const s = tx.objectStore('kv'), keys = s.getAllKeys(), values = s.getAll();
    tx.onabort = () => end(why(tx.error));
    tx.oncomplete = () => {
      keys.result.forEach((k, i) => held.set(k, values.result[i]));
      const heardEarly = early;
      early = null;
      for (const [k, old] of heardEarly) heard(k, old);
      end(null);
    };
  };
  try {
    const open = indexedDB.open('confab-store', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('kv');
    open.onerror = () => end(why(open.error));
    open.onsuccess = () => {
      db = open.result;
      // First access (loads it all): not at the top, which held up the parser.
      try {
        ls.length;
      } catch {}
      if (wanted) snapshot();
    };
  } catch (e) {
    end(why(e));
  }
  const later = (ms) => due || ((due = true), setTimeout(flush, ms));
  const mark = (k) => (dirty.add(k), later(0));
  function flush() {
    due = false;
    if (busy) return;
    const batch = [];
    for (const k of dirty) {
      const v = ls.getItem(k);
      if (v !== null) batch.push([k, v]);
      else if (!held.has(k)) batch.push([k, X]);
    }
    dirty.clear();
    if (!batch.length) return;
    busy = true;
    const failed = () => {
      busy = false;
      for (const [k] of batch) dirty.add(k);
      later(2000);
    };
    let tx;
    try {
      tx = db.transaction('kv', 'readwrite');
      const s = tx.objectStore('kv');
      for (const [k, v] of batch) v === X ? s.delete(k) : s.put(v, k);
    } catch {
      return failed();
    }
    tx.onabort = failed;
    tx.oncomplete = () => {
      busy = false;
      settle(batch, 0);
    };
  }
  function settle(batch, from) {
    const to = Math.min(from + 256, batch.length);
    for (let i = from; i < to; i++) {
      const [k, v] = batch[i];
      if (!dirty.has(k)) v === X ? held.delete(k) : held.set(k, v);
      if (ls.getItem(k) === v) ls.removeItem(k);
    }
    if (to < batch.length) setTimeout(() => settle(batch, to), 0);
    else if (dirty.size) later(0);
  }
  return {
    whenReady: () => ready,
    read: () => (wanted || ((wanted = true), db && snapshot()), ready),
    get: (k) => held.get(k),
    set: (k, v) => (held.set(k, v), mark(k)),
    remove: (k) => (held.delete(k), mark(k)),
    keys: () => [...held.keys()],
  };
})();
