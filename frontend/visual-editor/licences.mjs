// Writes the licence notices of every package esbuild put into the bundle (from its
// metafile) next to the bundle, as their MIT licences ask: node licences.mjs META OUT.
import { readFileSync, readdirSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";

const [metafile, out] = process.argv.slice(2);
const inputs = Object.keys(JSON.parse(readFileSync(metafile, "utf8")).inputs);
const packages = new Set();
for (const input of inputs) {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (match) packages.add(match[1]);
}
const sections = [];
for (const name of [...packages].sort()) {
  const folder = join("node_modules", name);
  const { version, license } = JSON.parse(readFileSync(join(folder, "package.json"), "utf8"));
  const file = readdirSync(folder).find((entry) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(entry));
  // A package of a monorepo without its own file (some @tiptap ones) is under the repository's.
  const text = file ? readFileSync(join(folder, file), "utf8").trim() : `${license} (see the @tiptap/core notice above)`;
  sections.push(`${name} ${version} (${license})\n\n${text}`);
}
if (!existsSync(join("node_modules", "@tiptap", "core"))) throw new Error("run npm ci first");
writeFileSync(out, `The visual editor bundle holds these packages, under these licences.\n\n${sections.join("\n\n" + "-".repeat(72) + "\n\n")}\n`);
console.log(`${packages.size} packages' licences in ${out}`);
