// Render a ZPL file to PNG files with zpl-renderer-js (IngridHQ's zebrash in WebAssembly).
// usage: node render.cjs <in.zpl> <widthMm> <heightMm> <dotsPerMm> <outPrefix>
// writes <outPrefix>0.png, <outPrefix>1.png, ... (one per ^XA..^XZ) and prints the count.
"use strict";
const fs = require("node:fs");
const { ready } = require("zpl-renderer-js");

async function main() {
  const [input, widthMm, heightMm, dpmm, prefix] = process.argv.slice(2);
  const { api } = await ready;
  const zpl = fs.readFileSync(input, "utf8");
  const pngs = await api.zplToBase64MultipleAsync(zpl, Number(widthMm), Number(heightMm), Number(dpmm));
  pngs.forEach((png, i) => fs.writeFileSync(`${prefix}${i}.png`, Buffer.from(png, "base64")));
  process.stdout.write(`${pngs.length}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
