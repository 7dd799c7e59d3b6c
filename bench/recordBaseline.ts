// Records the dependency graph of the generated 3-node stack as the program at a git revision
// plans it, for the model's "today" figure (bench/baseline-3-nodes.json):
//   npx ts-node --transpile-only bench/recordBaseline.ts <git-ref>
// Only what the model reads is kept: the graph, and each VM's hypervisor.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_DIR, Plan } from "../plan/run";
import { writeTempStackFile } from "../plan/stackFile";
import { generatedConfig } from "./generate";
import { BASELINE_FILE, Baseline } from "./baseline";

function main(ref: string): void {
    const git = (args: string[]) => spawnSync("git", args, { cwd: PROJECT_DIR, maxBuffer: 512 * 1024 * 1024 });
    const commit = git(["rev-parse", "--verify", `${ref}^{commit}`]).stdout.toString().trim();
    if (!commit) throw new Error(`${ref} is not a commit`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-baseline-"));
    try {
        spawnSync("tar", ["-x", "-C", dir], { input: git(["archive", "--format=tar", commit]).stdout });
        fs.symlinkSync(path.join(PROJECT_DIR, "node_modules"), path.join(dir, "node_modules"));
        const config = generatedConfig(3, 1);
        const r = spawnSync(process.execPath, [require.resolve("ts-node/dist/bin.js"), "--transpile-only", path.join(dir, "bench", "evaluate.ts"), "staging", writeTempStackFile(config)], {
            cwd: dir,
            encoding: "utf8",
            maxBuffer: 256 * 1024 * 1024,
            env: { ...process.env, KUBECONFIG: "" },
        });
        if (r.status !== 0) throw new Error(r.stderr);
        const plan = (JSON.parse(r.stdout) as { plan: Plan }).plan;
        const baseline: Baseline = {
            commit,
            nodes: (config["oslo-mesh:nodes"] as Array<{ name: string; role: "control-plane" | "worker" }>).map(({ name, role }) => ({ name, role })),
            resources: plan.resources.map((x) => ({
                ...x,
                inputs: x.custom && x.name.endsWith("-vm") ? { triggers: (x.inputs.triggers as Array<{ hypervisor: { name: string } }>).map((t) => ({ hypervisor: { name: t.hypervisor.name } })) } : {},
            })),
        };
        fs.writeFileSync(BASELINE_FILE, JSON.stringify(baseline, null, 1) + "\n");
        process.stdout.write(`${BASELINE_FILE}: ${baseline.resources.length} resources at ${commit}\n`);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

main(process.argv[2] ?? "HEAD");
