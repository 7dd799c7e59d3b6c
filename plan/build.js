// The compiled program for the offline plan, the bench and the tests' child processes.
// `tsc` emits every TypeScript file to bin/ (tsconfig.json), and the build copies every other
// file under components/ (the scripts and whatever else a component reads from beside its
// code) to the same place under bin/, so code that reads `path.join(__dirname, "x.sh")` finds
// it compiled too. `pulumi up` does not use bin/: it runs index.ts through its own TypeScript
// support (Pulumi.yaml).
//
// Plain JavaScript on purpose: it has to run before anything is compiled.
//
//   node plan/build.js                   build when stale (type errors fail it); `npm test` runs this
//   node plan/build.js --run ENTRY ARGS  build when stale, then run bin/ENTRY.js's main(ARGS) here
//                                        (npm run plan, bench and canary)
//
// Stale means: a source (*.ts in tsconfig's folders, a component's file), tsconfig.json or
// package-lock.json differs in path, size or modification time from the last successful build.
// A build that reports type errors writes no stamp, so bin/ stays stale until they are fixed.
"use strict";
const { spawnSync } = require("child_process");
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const PROJECT_DIR = path.resolve(__dirname, "..");
const OUT_DIR = path.join(PROJECT_DIR, "bin");
const STAMP = path.join(OUT_DIR, ".build-stamp");
/** The folder whose other files are copied beside the compiled code. */
const ASSET_DIR = "components";
/** Not sources: dependencies, the build itself, version control, scratch space. */
const NOT_SOURCES = new Set(["node_modules", "bin", "scratch"]);

/**
 * Every top-level folder that may hold TypeScript: tsconfig's "include" and whatever those
 * files import (tsc follows imports out of the listed folders too).
 */
function sourceDirs() {
    return fs
        .readdirSync(PROJECT_DIR, { withFileTypes: true })
        .filter((e) => e.isDirectory() && !e.name.startsWith(".") && !NOT_SOURCES.has(e.name))
        .map((e) => e.name);
}
const INPUT_FILES = ["index.ts", "tsconfig.json", "package-lock.json"];

function walk(dir, out = []) {
    let entries;
    try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
        return out;
    }
    for (const e of entries) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p, out);
        else if (e.isFile()) out.push(p);
    }
    return out;
}

function isSource(rel) {
    return rel.endsWith(".ts") && !rel.endsWith(".d.ts");
}

/** Every file the build reads, relative to the project, sorted. */
function inputs() {
    const files = [];
    for (const dir of sourceDirs()) {
        for (const f of walk(path.join(PROJECT_DIR, dir))) {
            const rel = path.relative(PROJECT_DIR, f);
            if (isSource(rel) || rel.startsWith(ASSET_DIR + path.sep)) files.push(rel);
        }
    }
    for (const f of INPUT_FILES) if (fs.existsSync(path.join(PROJECT_DIR, f))) files.push(f);
    return files.sort();
}

function signature(files) {
    const h = crypto.createHash("sha256");
    for (const rel of files) {
        const st = fs.statSync(path.join(PROJECT_DIR, rel));
        h.update(`${rel}\0${st.size}\0${st.mtimeMs}\n`);
    }
    return h.digest("hex");
}

function isStale() {
    try {
        return fs.readFileSync(STAMP, "utf8") !== signature(inputs());
    } catch {
        return true;
    }
}

function missingDependencies() {
    const tsc = path.join(PROJECT_DIR, "node_modules", "typescript", "bin", "tsc");
    return fs.existsSync(tsc) ? undefined : tsc;
}

/** Copies the components' non-TypeScript files to bin/ and removes what no longer has a source. */
function syncOutputs(files) {
    const wanted = new Set();
    for (const rel of files) {
        if (isSource(rel)) {
            // The JavaScript and its source map (tsconfig.json: the tests' stack traces point into the sources through it).
            wanted.add(rel.replace(/\.ts$/, ".js"));
            wanted.add(rel.replace(/\.ts$/, ".js.map"));
        } else if (rel.startsWith(ASSET_DIR + path.sep)) {
            const src = path.join(PROJECT_DIR, rel);
            const dst = path.join(OUT_DIR, rel);
            fs.mkdirSync(path.dirname(dst), { recursive: true });
            fs.copyFileSync(src, dst);
            fs.chmodSync(dst, fs.statSync(src).mode & 0o777);
            wanted.add(rel);
        }
    }
    for (const dir of fs.existsSync(OUT_DIR) ? fs.readdirSync(OUT_DIR) : []) {
        if (!fs.statSync(path.join(OUT_DIR, dir)).isDirectory()) continue;
        for (const f of walk(path.join(OUT_DIR, dir))) {
            const rel = path.relative(OUT_DIR, f);
            // A JavaScript file whose TypeScript source was deleted would otherwise still run.
            if (!wanted.has(rel)) fs.rmSync(f);
        }
    }
}

/** Builds bin/ when stale. Returns false (after printing why) when the build failed. */
function ensureBuilt({ quiet = false } = {}) {
    const missing = missingDependencies();
    if (missing) {
        process.stderr.write(
            "oslo-mesh: the dependencies are not installed (no TypeScript compiler at node_modules/typescript).\n" +
                "Run `npm ci` first (Node.js 20.19+ or 22), then run this command again.\n",
        );
        return false;
    }
    if (!isStale()) return true;
    const files = inputs();
    const before = signature(files);
    if (!quiet) process.stderr.write("oslo-mesh: compiling the program to bin/ (tsc) …\n");
    const tsc = spawnSync(
        process.execPath,
        [path.join(PROJECT_DIR, "node_modules", "typescript", "bin", "tsc"), "-p", PROJECT_DIR, "--incremental", "--tsBuildInfoFile", path.join(OUT_DIR, ".tsbuildinfo")],
        { cwd: PROJECT_DIR, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" },
    );
    if (tsc.status !== 0) {
        process.stderr.write(tsc.stdout + tsc.stderr);
        process.stderr.write("oslo-mesh: the TypeScript compiler reported errors; fix them and run again.\n");
        return false;
    }
    syncOutputs(files);
    // Only a build of what is still there counts: an edit during the build leaves bin/ stale.
    if (signature(inputs()) === before) fs.writeFileSync(STAMP, before);
    return true;
}

module.exports = { ensureBuilt, isStale, PROJECT_DIR, OUT_DIR };

if (require.main === module) {
    const argv = process.argv.slice(2);
    if (argv[0] === "--run") {
        const entry = argv[1];
        if (!entry || !/^[\w/.-]+$/.test(entry)) {
            process.stderr.write("usage: node plan/build.js --run <entry, e.g. plan/cli> [args]\n");
            process.exit(2);
        }
        if (!ensureBuilt()) process.exit(1);
        // In this process: one Node.js start-up, not two. A main() that returns a number exits with it.
        Promise.resolve(require(path.join(OUT_DIR, entry)).main(argv.slice(2))).then(
            (code) => typeof code === "number" && process.exit(code),
            (e) => {
                process.stderr.write(`${(e && e.message) || e}\n`);
                process.exit(1);
            },
        );
    } else {
        process.exit(ensureBuilt({ quiet: true }) ? 0 : 1);
    }
}
