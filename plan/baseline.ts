// The plan of the same stack at another git revision, for `--diff <git-ref>`: that revision's
// tree, with its TypeScript transpiled to JavaScript beside it (as ts-node --transpile-only
// would, file by file, with the revision's own compiler options), runs its own offline plan.
// The transpiled tree is kept per commit in .oslo-mesh/revisions/ (git ignores it), so
// diffing several stacks against one revision transpiles it once. Not under node_modules:
// Pulumi's closure serialization (a dynamic provider's code) would then `require` the tree's
// modules by path instead of inlining them, and the two plans would differ in that alone.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { PROJECT_DIR } from "./project";
import { offlineChartEnv, Plan, SECRET_DIGEST_KEY_ENV } from "./run";

const CACHE_DIR = path.join(PROJECT_DIR, ".oslo-mesh", "revisions");
const DONE = ".oslo-mesh-transpiled";

/** The directory of GIT-REF's tree with its TypeScript transpiled beside it (made once per commit). */
export function transpiledRevision(ref: string): string {
    const git = (args: string[], opts: { input?: Buffer } = {}) => spawnSync("git", args, { cwd: PROJECT_DIR, maxBuffer: 512 * 1024 * 1024, ...opts });
    const rev = git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
    if (rev.status !== 0) throw new Error(`--diff: ${ref} is not a commit of this repository`);
    const commit = rev.stdout.toString().trim();
    const dir = path.join(CACHE_DIR, commit);
    if (!fs.existsSync(path.join(dir, DONE))) {
        // Built aside and moved into place whole: a run that stops halfway leaves nothing that looks done.
        fs.mkdirSync(CACHE_DIR, { recursive: true });
        const work = fs.mkdtempSync(path.join(CACHE_DIR, `.${commit.slice(0, 12)}-`));
        try {
            const archive = git(["archive", "--format=tar", commit]);
            if (archive.status !== 0) throw new Error(`--diff: git archive ${ref} failed: ${archive.stderr}`);
            const untar = spawnSync("tar", ["-x", "-C", work], { input: archive.stdout });
            if (untar.status !== 0) throw new Error(`--diff: unpacking ${ref} failed: ${untar.stderr}`);
            if (!fs.existsSync(path.join(work, "plan", "cli.ts"))) throw new Error(`--diff: ${ref} has no offline plan (plan/cli.ts)`);
            transpileTree(work);
            fs.writeFileSync(path.join(work, DONE), `${commit}\n`);
            try {
                fs.renameSync(work, dir);
            } catch (e) {
                // Another run got there first with the same commit: use that one.
                if (!fs.existsSync(path.join(dir, DONE))) throw e;
            }
        } finally {
            fs.rmSync(work, { recursive: true, force: true });
        }
    }
    const now = new Date();
    fs.utimesSync(dir, now, now);
    prune(8);
    return dir;
}

export function planAtRevision(ref: string, stack: string, digestKey: string): Plan {
    const dir = transpiledRevision(ref);
    if (!fs.existsSync(path.join(dir, `Pulumi.${stack}.yaml`))) return { stack, resources: [], outputs: {}, diagnostics: [] };
    const r = spawnSync(process.execPath, ["--stack-trace-limit=0", path.join(dir, "plan", "cli.js"), "--stack", stack, "--json"], {
        cwd: dir,
        encoding: "utf8",
        maxBuffer: 256 * 1024 * 1024,
        env: { ...process.env, ...offlineChartEnv(), KUBECONFIG: "", npm_lifecycle_event: "", [SECRET_DIGEST_KEY_ENV]: digestKey },
    });
    if (r.status !== 0) throw new Error(`--diff: the plan of ${ref} failed:\n${r.stderr}`);
    return parseOlderPlan(r.stdout, stack);
}

/** Every .ts file of the tree (not .d.ts) gets its .js beside it; node_modules is this project's. */
function transpileTree(root: string): void {
    const ts = require("typescript") as typeof import("typescript");
    const tsconfig = path.join(root, "tsconfig.json");
    const read = fs.existsSync(tsconfig) ? ts.parseConfigFileTextToJson(tsconfig, fs.readFileSync(tsconfig, "utf8")).config : {};
    const { options } = ts.convertCompilerOptionsFromJson(read?.compilerOptions ?? {}, root);
    const compilerOptions = { ...options, module: ts.ModuleKind.CommonJS, sourceMap: false, inlineSourceMap: false, declaration: false, noEmit: false };
    const walk = (dir: string): void => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
            const p = path.join(dir, e.name);
            // The tests are never part of a plan.
            if (e.isDirectory()) {
                if (p !== path.join(root, "test")) walk(p);
            }
            else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) {
                const out = ts.transpileModule(fs.readFileSync(p, "utf8"), { compilerOptions, fileName: p, reportDiagnostics: false });
                fs.writeFileSync(p.replace(/\.ts$/, ".js"), out.outputText);
            }
        }
    };
    walk(root);
    fs.symlinkSync(path.join(PROJECT_DIR, "node_modules"), path.join(root, "node_modules"));
}

/** Keeps the most recently used transpiled revisions, and drops the rest. */
function prune(keep: number): void {
    const dirs = fs
        .readdirSync(CACHE_DIR)
        .filter((d) => /^[0-9a-f]{40,64}$/.test(d))
        .map((d) => ({ d, t: fs.statSync(path.join(CACHE_DIR, d)).mtimeMs }))
        .sort((a, b) => b.t - a.t);
    for (const { d } of dirs.slice(keep)) fs.rmSync(path.join(CACHE_DIR, d), { recursive: true, force: true });
}

/**
 * A plan document as a revision printed it. Revisions before the plan kept standard output to
 * itself could print library log lines (`info: [runtime] ...`) before the document; plans from
 * before resource options and diagnostics were recorded lack those fields.
 */
export function parseOlderPlan(stdout: string, stack: string): Plan {
    const start = stdout.startsWith("{") ? 0 : stdout.indexOf("\n{") + 1;
    if (start === 0 && !stdout.startsWith("{")) throw new Error(`--diff: the plan of stack ${stack} at that revision printed no JSON document`);
    const doc = JSON.parse(stdout.slice(start)) as Partial<Plan>;
    return {
        stack: doc.stack ?? stack,
        resources: (doc.resources ?? []).map((r) => ({ ...r, replaceOnChanges: r.replaceOnChanges ?? [], deleteBeforeReplace: r.deleteBeforeReplace ?? false })),
        outputs: doc.outputs ?? {},
        diagnostics: doc.diagnostics ?? [],
    };
}
