// Bundles the extension (and, with --tests, the unit tests) with esbuild.
//   node esbuild.mjs               dist/extension.js with source maps
//   node esbuild.mjs --production  minified, for the .vsix
//   node esbuild.mjs --watch       rebuild on change
//   node esbuild.mjs --tests       out/test/*.test.js for `node --test`
import { readdirSync } from "node:fs";
import * as esbuild from "esbuild";

const args = new Set(process.argv.slice(2));
const production = args.has("--production");

const options = args.has("--tests")
  ? {
      entryPoints: readdirSync("test")
        .filter((name) => name.endsWith(".test.ts"))
        .map((name) => `test/${name}`),
      outdir: "out/test",
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20",
      sourcemap: "inline",
      external: ["vscode"],
      logLevel: "warning",
    }
  : {
      entryPoints: ["src/extension.ts"],
      outfile: "dist/extension.js",
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20",
      external: ["vscode"],
      minify: production,
      sourcemap: !production,
      sourcesContent: false,
      logLevel: "warning",
    };

if (args.has("--watch")) {
  const context = await esbuild.context(options);
  await context.watch();
} else {
  await esbuild.build(options);
}
