// Bundles the TypeScript SDK and the browser client into public/ with esbuild. The output is
// committed and byte-compared in CI (scripts/build-web.sh --check), so it must not depend on
// the machine: no timestamps, no absolute paths, no minified names that vary between runs.
//
//   node build.mjs [OUTDIR]     (default: public)
import { build } from 'esbuild';

const out = process.argv[2] ?? 'public';

const common = {
  bundle: true,
  format: 'esm',
  target: 'es2022',
  platform: 'neutral',
  charset: 'utf8',
  legalComments: 'none',
  sourcemap: false,
  logLevel: 'warning',
};

await build({ ...common, entryPoints: ['src/sdk/index.ts'], outfile: `${out}/sdk.js` });
await build({ ...common, entryPoints: ['src/app/main.ts'], outfile: `${out}/app.js` });
