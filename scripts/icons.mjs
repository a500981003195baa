// Draws the PNG icons of the web app manifest from the SVGs in
// assets/ with Chromium (the one the tests use): each SVG shown at
// the size wanted on a transparent page and screenshotted. The PNGs are
// committed (a few KB), so a build needs no rasterizer; run this again
// (`node scripts/icons.mjs`, from make's PATH) after changing an SVG.
import { readFileSync } from "node:fs";
import { chromium } from "@playwright/test";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "../tests/chromium.mjs";

// The maskable icon's SVG (its glyph inside the safe circle, the colour to
// the edges) is not in icons/: only its PNG is served.
const assets = new URL("../assets/", import.meta.url);
const wanted = [
  ["icons/confab.svg", "icons/confab-192.png", 192],
  ["icons/confab.svg", "icons/confab-512.png", 512],
  ["confab-maskable.svg", "icons/confab-maskable-512.png", 512],
];

const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
try {
  for (const [svg, png, size] of wanted) {
    const page = await browser.newPage({ viewport: { width: size, height: size } });
    const markup = readFileSync(new URL(svg, assets), "utf8");
    await page.setContent(
      `<style>html,body{margin:0;background:transparent}svg{display:block;width:${size}px;height:${size}px}</style>${markup}`,
    );
    await page.screenshot({ path: new URL(png, assets).pathname, omitBackground: true });
    await page.close();
  }
} finally {
  await browser.close();
}
