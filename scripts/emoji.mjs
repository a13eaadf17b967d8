// Builds the site's emoji from two npm packages (see end2end/package.json):
//
// - the Noto Color Emoji font (SIL Open Font License), in the subsets
//   Fontsource cut it into, copied to `<site>/pkg/emoji-<n>.<hash>.woff2`,
//   with an @font-face rule per subset appended to `<site>/pkg/parley.css`,
//   so that emoji look the same on every system and a page downloads only
//   the subsets its emoji need;
// - the emoji list with names, keywords and Slack's shortcodes (emojibase,
//   MIT), written to `<site>/emoji.json` for the emoji picker and the
//   composer's `:shortcode:` completion: `[[emoji, name, [shortcodes],
//   [keywords], group], …]` in Unicode's order.
//
// Usage: node scripts/emoji.mjs <site directory> <node_modules directory>
import { createHash } from "node:crypto";
import { appendFileSync, copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [site, modules] = process.argv.slice(2);
if (!site || !modules) throw new Error("usage: node scripts/emoji.mjs <site> <node_modules>");

// Characters that are text first (digits, #, *, ©, ®, ™): the emoji font
// must not draw them in ordinary text.
const TEXT = new Set(["U+23", "U+2a", "U+30-39", "U+a9", "U+ae", "U+2122"]);

const font = join(modules, "@fontsource/noto-color-emoji");
const css = readFileSync(join(font, "index.css"), "utf8");
const rules = [];
for (const block of css.matchAll(/src: url\(\.\/files\/([^)]+\.woff2)\)[^;]*;\s*unicode-range: ([^;]+);/g)) {
  const [, file, ranges] = block;
  const bytes = readFileSync(join(font, "files", file));
  const hash = createHash("sha256").update(bytes).digest("hex").slice(0, 16);
  const subset = file.match(/noto-color-emoji-(\d+)-/)[1];
  const name = `emoji-${subset}.${hash}.woff2`;
  copyFileSync(join(font, "files", file), join(site, "pkg", name));
  const kept = ranges.split(",").filter((r) => !TEXT.has(r.trim()));
  rules.push(
    `@font-face { font-family: "Parley Emoji"; font-display: swap; src: url(./${name}) format("woff2"); unicode-range: ${kept.join(",")}; }`,
  );
}
if (rules.length === 0) throw new Error("no font subsets found in the Noto Color Emoji package");
appendFileSync(join(site, "pkg", "parley.css"), `\n/* Emoji: Noto Color Emoji (SIL OFL 1.1), by subsets. */\n${rules.join("\n")}\n`);

const data = join(modules, "emojibase-data/en");
const emoji = JSON.parse(readFileSync(join(data, "compact.json"), "utf8"));
const shortcodes = JSON.parse(readFileSync(join(data, "shortcodes/iamcal.json"), "utf8"));
const COMPONENT = 2;
const list = emoji
  .filter((e) => e.group !== undefined && e.group !== COMPONENT)
  .sort((a, b) => a.order - b.order)
  .map((e) => {
    const codes = shortcodes[e.hexcode];
    const names = codes === undefined ? [] : Array.isArray(codes) ? codes : [codes];
    return [e.unicode, e.label, names, e.tags ?? [], e.group];
  });
writeFileSync(join(site, "emoji.json"), JSON.stringify(list));
console.log(`emoji: ${rules.length} font subsets, ${list.length} emoji`);
