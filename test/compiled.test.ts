// test/compiled.js, which `npm test` loads in place of ts-node: the project's TypeScript runs from
// the build's output, under its own name, with stack traces that point into the sources.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { compiledDir, PROJECT_DIR } from "./harness";

/** Runs a script in a fresh node with test/compiled.js loaded first; its last stdout line, parsed. */
function withHook(script: string): Record<string, unknown> {
    compiledDir(); // bin/ current, as test/run.js makes it
    const r = spawnSync(process.execPath, ["-r", path.join(PROJECT_DIR, "test", "compiled.js"), "-e", script], { cwd: PROJECT_DIR, encoding: "utf8" });
    assert.strictEqual(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

/** Whether ts-node (which transpiles with TypeScript) was loaded. */
const tsNodeLoaded = `Object.keys(require.cache).some((f) => f.includes("/node_modules/ts-node/"))`;

describe("npm test runs the project's TypeScript from the build (test/compiled.js)", function () {
    this.timeout(60_000);

    it("a project module runs from bin/ under its source's name, without ts-node", () => {
        const r = withHook(`const m = require("./stacks/problems.ts");
            const mod = require.cache[require.resolve("./stacks/problems.ts")];
            console.log(JSON.stringify({ filename: mod.filename, exported: typeof m.formatProblem, ts: ${tsNodeLoaded} }));`);
        assert.deepStrictEqual(r, { filename: path.join(PROJECT_DIR, "stacks", "problems.ts"), exported: "function", ts: false });
    });

    it("a stack trace from compiled code names the TypeScript source's line", () => {
        // The line in plan/args.ts that refuses an unknown flag, read from the source itself.
        const source = fs.readFileSync(path.join(PROJECT_DIR, "plan", "args.ts"), "utf8").split("\n");
        const line = source.findIndex((l) => l.includes("throw new UsageError(`unknown argument")) + 1;
        assert.ok(line > 0, "plan/args.ts refuses an unknown argument");
        const r = withHook(`const { parseArgs } = require("./plan/args.ts");
            let stack = "";
            try { parseArgs(["--no-such-flag"]); } catch (e) { stack = e.stack; }
            console.log(JSON.stringify({ frame: (stack.split("\\n").find((l) => l.includes("args.")) || "").trim() }));`);
        assert.match(String(r.frame), new RegExp(`\\(${PROJECT_DIR}/plan/args\\.ts:${line}:\\d+\\)$`));
    });

    it("a TypeScript file the build does not emit goes through ts-node", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-compiled-"));
        const file = path.join(dir, "outside.ts");
        fs.writeFileSync(file, "export const answer: number = 6 * 7;\n");
        try {
            const r = withHook(`const m = require(${JSON.stringify(file)}); console.log(JSON.stringify({ answer: m.answer, ts: ${tsNodeLoaded} }));`);
            assert.deepStrictEqual(r, { answer: 42, ts: true });
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
