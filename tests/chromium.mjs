// Debian's Chromium, shared by the e2e tests, the benchmarks and the
// screenshots: Playwright cannot download its own browsers here. The flags
// keep it from reaching for the network, which is closed.
export const CHROMIUM_PATH = process.env.CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
