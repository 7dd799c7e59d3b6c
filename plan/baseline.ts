// The plan of the same stack at another git revision, for `--diff <git-ref>`: that revision's
// tree is exported to a temporary directory and its own offline plan is run there.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_DIR } from "./project";
import { Plan, SECRET_DIGEST_KEY_ENV } from "./run";

export function planAtRevision(ref: string, stack: string, digestKey: string): Plan {
    const git = (args: string[], opts: { input?: Buffer } = {}) => spawnSync("git", args, { cwd: PROJECT_DIR, maxBuffer: 512 * 1024 * 1024, ...opts });
    const rev = git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
    if (rev.status !== 0) throw new Error(`--diff: ${ref} is not a commit of this repository`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-base-"));
    try {
        const archive = git(["archive", "--format=tar", rev.stdout.toString().trim()]);
        if (archive.status !== 0) throw new Error(`--diff: git archive ${ref} failed: ${archive.stderr}`);
        const untar = spawnSync("tar", ["-x", "-C", dir], { input: archive.stdout });
        if (untar.status !== 0) throw new Error(`--diff: unpacking ${ref} failed: ${untar.stderr}`);
        if (!fs.existsSync(path.join(dir, "plan", "cli.ts"))) throw new Error(`--diff: ${ref} has no offline plan (plan/cli.ts)`);
        if (!fs.existsSync(path.join(dir, `Pulumi.${stack}.yaml`))) return { stack, resources: [], outputs: {}, diagnostics: [] };
        fs.symlinkSync(path.join(PROJECT_DIR, "node_modules"), path.join(dir, "node_modules"));
        // TypeScript as it is at that revision, transpiled on the fly: cheaper than compiling all of it.
        const args = ["--stack-trace-limit=0", require.resolve("ts-node/dist/bin.js"), "--transpile-only", path.join(dir, "plan", "cli.ts"), "--stack", stack, "--json"];
        const r = spawnSync(process.execPath, args, {
            cwd: dir,
            encoding: "utf8",
            maxBuffer: 256 * 1024 * 1024,
            env: { ...process.env, KUBECONFIG: "", npm_lifecycle_event: "", [SECRET_DIGEST_KEY_ENV]: digestKey },
        });
        if (r.status !== 0) throw new Error(`--diff: the plan of ${ref} failed:\n${r.stderr}`);
        return parseOlderPlan(r.stdout, stack);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
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
