// A mocha --require for `npm test` (test/run.js), in place of ts-node: each of the project's
// TypeScript files runs from what the build already emitted for it (bin/, which `npm test`
// builds first and test/run.js checks is current) instead of being transpiled again in every
// mocha process (measured: about 8 s of CPU per run, and 2 s more formatting stack traces
// through ts-node's source-map-support). A file keeps its own path, so `__dirname` and
// `__filename` are what they are under ts-node; stack traces point into the TypeScript sources
// through the build's source maps (tsconfig.json `sourceMap`, Node's own support).
// A .ts file the build did not emit (outside the project, or under .oslo-mesh/) goes through
// ts-node as before. `npx mocha test/<file>.test.ts` keeps ts-node alone (.mocharc.yml).
//
// Plain JavaScript, loaded before any TypeScript.
"use strict";
const fs = require("fs");
const path = require("path");

const PROJECT_DIR = path.resolve(__dirname, "..");
const OUT_DIR = path.join(PROJECT_DIR, "bin");
/** Folders of the project whose TypeScript the build does not emit to bin/. */
const NOT_BUILT = ["bin", "node_modules", ".oslo-mesh", "scratch"].map((d) => path.join(PROJECT_DIR, d) + path.sep);

/** The build's output for a source file, or undefined when the build does not emit it. */
function emitted(filename) {
    if (!filename.startsWith(PROJECT_DIR + path.sep) || NOT_BUILT.some((d) => filename.startsWith(d))) return undefined;
    const js = path.join(OUT_DIR, path.relative(PROJECT_DIR, filename)).replace(/\.ts$/, ".js");
    return fs.existsSync(js) ? js : undefined;
}

let tsNode;
/** ts-node's transpile-only compiler, made on first use (loading TypeScript costs about 0.4 s). */
function transpile(code, filename) {
    tsNode ??= require("ts-node").create({ transpileOnly: true });
    return tsNode.compile(code, filename);
}

process.setSourceMapsEnabled(true);
require.extensions[".ts"] = (module, filename) => {
    const js = emitted(filename);
    if (js === undefined) return module._compile(transpile(fs.readFileSync(filename, "utf8"), filename), filename);
    // The map sits beside the emitted file; the module runs under its source's name, so the
    // comment that names the map is made relative to the source (Node reads a map's URL
    // relative to the module's own; an absolute file: URL it does not read).
    const code = fs.readFileSync(js, "utf8").replace(/^\/\/# sourceMappingURL=(.*)\s*$(?![\s\S])/m, (_, map) => `//# sourceMappingURL=${path.relative(path.dirname(filename), path.join(path.dirname(js), map)).split(path.sep).join("/")}`);
    module._compile(code, filename);
};
