// `npm run roll` against the fake `pulumi` (engine mode: the program recorded under mocks, the
// engine's ordering from test/rollEngine.ts) and a fake Kubernetes API server: the printed waves,
// each wave's targeted `pulumi up` only after the cluster was found healthy, the removal half of
// each replacement in kubeadm's order, a stop when a wave does not come back healthy, the
// refusals, and a first creation done by one plain `pulumi up`.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as path from "path";
import { main } from "../roll/cli";
import { UBUNTU_FOCAL_IMAGE, UBUNTU_FOCAL_SHA256SUMS } from "../stacks/defaults";
import { compiledDir, parsedConfig, stackFileConfig } from "./harness";
import { RecordedProgram, recordProgram } from "./rollHarness";
import { Event, healthyCluster, makeRollProject, RollProject } from "./rollProject";

const NEW_IMAGE = { url: "https://cloud-images.ubuntu.com/releases/focal/release-20240821/ubuntu-20.04-server-cloudimg-amd64.img", sha256: "c".repeat(64), kernelArgs: ["systemd.unified_cgroup_hierarchy=0"] };
const name = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);

/** prod with a new image for the fleet; `pinFirst` keeps the first control plane on the old one. */
function fleetChange(opts: { pinFirst: boolean; maxUnavailable?: number }): Record<string, any> {
    const raw = stackFileConfig("prod") as Record<string, any>;
    raw["oslo-mesh:vps"].image = NEW_IMAGE;
    if (opts.pinFirst) raw["oslo-mesh:nodes"][0].image = { url: UBUNTU_FOCAL_IMAGE, checksumUrl: UBUNTU_FOCAL_SHA256SUMS };
    if (opts.maxUnavailable) raw["oslo-mesh:rollout"] = { maxUnavailable: opts.maxUnavailable };
    return raw;
}

interface Run {
    readonly code: number;
    readonly out: string[];
    readonly err: string[];
}

async function roll(p: RollProject, program: RecordedProgram, args: string[] = []): Promise<Run> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(["--stack", "prod", "--health-timeout", "500ms", "--poll", "20ms", ...args], {
        dir: p.dir,
        env: p.env,
        out: (t) => out.push(...t.split("\n")),
        err: (t) => err.push(...t.split("\n")),
        upOutput: "out",
        desired: async () => program.engine,
    });
    return { code, out, err };
}

const ups = (events: Event[]) => events.filter((e) => e.argv?.[0] === "up");

describe("roll: npm run roll", function () {
    this.timeout(180_000);
    const prod = parsedConfig("prod", stackFileConfig("prod"));
    let current: RecordedProgram;
    let pinned: RecordedProgram;
    let pinnedTwo: RecordedProgram;
    let unpinned: RecordedProgram;
    const projects: RollProject[] = [];
    const project = async (program: RecordedProgram, config: Record<string, unknown>, opts: { state?: RecordedProgram | null; env?: Record<string, string> } = {}) => {
        const p = await makeRollProject({ stack: "prod", config, state: opts.state === null ? [] : (opts.state ?? current).engine, program: program.engine, cluster: healthyCluster(prod.nodes), env: opts.env });
        projects.push(p);
        return p;
    };

    before(async () => {
        current = await recordProgram("prod", prod);
        pinned = await recordProgram("prod", parsedConfig("prod", fleetChange({ pinFirst: true })));
        pinnedTwo = await recordProgram("prod", parsedConfig("prod", fleetChange({ pinFirst: true, maxUnavailable: 2 })));
        unpinned = await recordProgram("prod", parsedConfig("prod", fleetChange({ pinFirst: false })));
    });
    after(async () => {
        for (const p of projects) await p.close();
    });

    it("--dry-run prints the waves: control planes one at a time, then workers maxUnavailable at a time; it changes nothing", async () => {
        const p = await project(pinned, fleetChange({ pinFirst: true }));
        const r = await roll(p, pinned, ["--dry-run"]);
        assert.strictEqual(r.code, 0, r.err.join("\n"));
        const chain = (n: string) => `${n}-vm, ${n}-admit, ${n}-firewall, ${n}-prepare, ${n}-join, ${n}-registered, ${n}-upgrade${n.includes("-cp-") ? `, ${n}-certificate-renewal, ${n}-etcd-snapshots` : ""}`;
        assert.deepStrictEqual(r.out.slice(0, 7), [
            "roll of stack prod: 5 nodes to replace in 5 waves (control planes one at a time, then oslo-mesh:rollout.maxUnavailable = 1 worker at a time)",
            `  wave 1  control plane  prod-cp-2      replaces ${chain("prod-cp-2")}`,
            `  wave 2  control plane  prod-cp-3      replaces ${chain("prod-cp-3")}`,
            `  wave 3  worker         prod-worker-1  replaces ${chain("prod-worker-1")}`,
            `  wave 4  worker         prod-worker-2  replaces ${chain("prod-worker-2")}`,
            `  wave 5  worker         prod-worker-3  replaces ${chain("prod-worker-3")}`,
            "  then    pulumi up      applies everything else",
        ]);
        assert.match(r.out[7], / then waits until every node is Ready and schedulable and etcd is healthy \(at most 500ms\) before the next wave starts\.$/, "the --health-timeout as given");
        assert.deepStrictEqual(ups(p.events()), [], "no pulumi up");
        assert.deepStrictEqual(p.events().filter((e) => e.api), [], "nor a look at the cluster");
    });

    it("rolls wave by wave: each targeted pulumi up only after the cluster is healthy, the old node drained, reset and forgotten first, then the rest", async () => {
        const p = await project(pinnedTwo, fleetChange({ pinFirst: true, maxUnavailable: 2 }));
        const r = await roll(p, pinnedTwo);
        assert.strictEqual(r.code, 0, [...r.out, ...r.err].join("\n"));
        const events = p.events();
        const waves = ups(events).map((e) => e.wave ?? null);
        assert.deepStrictEqual(waves, ["prod-cp-2", "prod-cp-3", "prod-worker-1,prod-worker-2", "prod-worker-3", null], "four waves, then the closing plain pulumi up");
        // Before and after every wave's pulumi up, the roll looked at the nodes and etcd.
        const at = (i: number) => events.indexOf(ups(events)[i]);
        for (let i = 0; i < 4; i++) {
            const between = events.slice(i === 0 ? 0 : at(i - 1) + 1, at(i)).map((e) => e.api).filter(Boolean);
            assert.ok(between.includes("/api/v1/nodes") && between.includes("/healthz/etcd") && between.includes("/api/v1/namespaces/kube-system/pods/etcd-prod-cp-3"), `health checked before wave ${i + 1}: ${between.join(" ")}`);
        }
        // Each wave's pulumi up targets the gate and its own machines, and replaces nothing else.
        const steps = p.steps();
        for (const wave of ["prod-cp-2", "prod-cp-3", "prod-worker-1,prod-worker-2", "prod-worker-3"]) {
            const acting = steps.filter((s) => s.wave === wave && s.op !== "same").map((s) => name(s.urn));
            const nodes = wave.split(",");
            assert.ok(acting.every((n) => n === "rollout-gate" || nodes.some((x) => n.startsWith(`${x}-`))), `${wave}: ${acting.join(", ")}`);
            for (const node of nodes) {
                const deletes = steps.filter((s) => s.wave === wave && s.op === "delete-replaced" && name(s.urn).startsWith(`${node}-`)).map((s) => name(s.urn));
                const timers = node.includes("-cp-") ? [`${node}-etcd-snapshots`, `${node}-certificate-renewal`] : [];
                const removal = deletes.filter((n) => !timers.includes(n));
                assert.deepStrictEqual(removal, [`${node}-upgrade`, `${node}-registered`, `${node}-join`, `${node}-admit`, `${node}-firewall`, `${node}-prepare`, `${node}-vm`], `${node}: drain, reset, forget, then the VM`);
                assert.deepStrictEqual(deletes.slice(0, timers.length).sort(), [...timers].sort(), `${node}: its timers go first`);
            }
        }
        assert.deepStrictEqual(steps.filter((s) => s.wave === null && s.op !== "same").map((s) => name(s.urn)), [], "the closing pulumi up has nothing left of the nodes to do");
        // The stack now holds what the program asks for, the gate included.
        const held = new Map(p.state().map((x) => [x.urn, JSON.stringify(x.inputs.triggers ?? x.inputs.nodes ?? null)]));
        for (const r of pinnedTwo.engine.filter((x) => x.custom)) assert.strictEqual(held.get(r.urn), JSON.stringify(r.inputs.triggers ?? r.inputs.nodes ?? null), name(r.urn));
        assert.match(r.out.join("\n"), /\$ OSLO_MESH_ROLL_WAVE=prod-cp-2 pulumi up --stack prod --target urn:pulumi:prod::oslo-mesh::pulumi-nodejs:dynamic\/rollout:RolloutGate::rollout-gate --target 'urn:pulumi:prod::oslo-mesh::oslo-mesh:vps:KvmVps\$command:remote:Command::prod-cp-2-vm'/);
        assert.strictEqual(r.out[r.out.length - 1], "rolled: 4 waves, then the rest");
        // A second roll finds nothing to replace.
        const again = await roll(p, pinnedTwo, ["--dry-run"]);
        assert.strictEqual(again.out[0], "roll of stack prod: 0 nodes to replace in 0 waves (control planes one at a time, then oslo-mesh:rollout.maxUnavailable = 2 workers at a time)");
    });

    it("stops when a wave does not come back healthy: no further wave starts, and a second run goes on once the node is back", async () => {
        const p = await project(pinned, fleetChange({ pinFirst: true }), { env: { FAKE_CLUSTER_BROKEN: "prod-worker-1" } });
        const r = await roll(p, pinned);
        assert.strictEqual(r.code, 1, [...r.out, ...r.err].join("\n"));
        assert.deepStrictEqual(ups(p.events()).map((e) => e.wave), ["prod-cp-2", "prod-cp-3", "prod-worker-1"], "worker-2 and worker-3 were not touched");
        assert.match(r.err.join("\n"), /wave 3 \(prod-worker-1\) is Ready: not so after 500ms:\n {2}node prod-worker-1 is not Ready/);
        // The node recovers; the next run replaces only what is left.
        const c = p.cluster();
        c.nodes["prod-worker-1"].ready = true;
        p.setCluster(c);
        const again = await roll(p, pinned);
        assert.strictEqual(again.code, 0, again.err.join("\n"));
        assert.deepStrictEqual(ups(p.events()).map((e) => e.wave ?? null), ["prod-cp-2", "prod-cp-3", "prod-worker-1", "prod-worker-2", "prod-worker-3", null]);
    });

    it("does not start while the cluster is unhealthy: a NotReady node, or etcd without quorum", async () => {
        for (const breakIt of [(c: any) => (c.nodes["prod-worker-3"].ready = false), (c: any) => (c.etcdHealthy = false)]) {
            const p = await project(pinned, fleetChange({ pinFirst: true }));
            const c = p.cluster();
            breakIt(c);
            p.setCluster(c);
            const r = await roll(p, pinned);
            assert.strictEqual(r.code, 1);
            assert.deepStrictEqual(ups(p.events()), []);
            assert.match(r.err.join("\n"), /the cluster is healthy before wave 1: not so after 500ms:\n {2}(node prod-worker-3 is not Ready|etcd is not healthy: \/healthz\/etcd answered "HTTP 500: internal server error: etcd failed: context deadline exceeded")/);
        }
    });

    it("a failed pulumi up stops the roll, naming the wave", async () => {
        const p = await project(pinned, fleetChange({ pinFirst: true }), { env: { FAKE_PULUMI_UP_EXIT: "1" } });
        const r = await roll(p, pinned);
        assert.strictEqual(r.code, 1);
        assert.strictEqual(ups(p.events()).length, 1);
        assert.match(r.err.join("\n"), /^wave 1 \(prod-cp-2\): pulumi up exited 1; no further wave started\. Fix what it reports and run npm run roll again/m);
    });

    it("refuses to replace the first control plane, before anything runs", async () => {
        const p = await project(unpinned, fleetChange({ pinFirst: false }));
        const r = await roll(p, unpinned);
        assert.strictEqual(r.code, 2);
        assert.match(r.err.join("\n"), /^refused: prod-cp-1 is the first control plane: kubeadm init ran there, and a new machine would initialise a second cluster/m);
        assert.deepStrictEqual(ups(p.events()), []);
    });

    it("a plain pulumi up of the fleet change is refused at preview by the gate, pointing to npm run roll; nothing changes", async () => {
        const p = await project(pinned, fleetChange({ pinFirst: true }));
        const before = JSON.stringify(p.state());
        const r = spawnSync("pulumi", ["up", "--stack", "prod", "--yes"], { cwd: p.dir, env: p.env, encoding: "utf8" });
        assert.strictEqual(r.status, 1);
        assert.match(
            r.stderr,
            /^error: pulumi-nodejs:dynamic\/rollout:RolloutGate resource 'rollout-gate' has a problem: this change replaces the VMs of control planes prod-cp-2 and prod-cp-3 at once: etcd would lose its quorum\. Roll it out node by node, each wave once the previous one is healthy: npm run roll -- --stack prod \(add --dry-run to see the waves\)$/m,
        );
        assert.strictEqual(JSON.stringify(p.state()), before);
        assert.deepStrictEqual(p.steps(), []);
    });

    it("a first creation is one plain pulumi up that creates every node together", async () => {
        const p = await project(current, stackFileConfig("prod"), { state: null });
        const r = await roll(p, current);
        assert.strictEqual(r.code, 0, r.err.join("\n"));
        assert.strictEqual(r.out[0], "roll of stack prod: 0 nodes to replace in 0 waves (control planes one at a time, then oslo-mesh:rollout.maxUnavailable = 1 worker at a time)");
        assert.strictEqual(r.out[1], `  then    pulumi up      creates ${prod.nodes.map((n) => n.name).join(", ")} (in parallel) and applies everything else`);
        assert.deepStrictEqual(ups(p.events()).map((e) => e.argv), [["up", "--stack", "prod", "--yes"]]);
        assert.deepStrictEqual(p.events().filter((e) => e.api), [], "no wave, no health wait");
        assert.ok(p.steps().every((s) => s.op === "create"));
    });

    it("from the command line, it plans the program itself: npm run roll -- --stack prod --dry-run", async () => {
        const p = await project(pinned, fleetChange({ pinFirst: true }));
        // Compiled, as `npm run roll` runs it (plan/build.js --run roll/cli).
        const r = spawnSync(process.execPath, [path.join(compiledDir(), "roll", "cli.js"), "--stack", "prod", "--dry-run"], {
            cwd: p.dir,
            env: { ...p.env, KUBECONFIG: "" },
            encoding: "utf8",
        });
        assert.strictEqual(r.status, 0, r.stderr);
        const lines = r.stdout.split("\n");
        assert.strictEqual(lines[0], "roll of stack prod: 5 nodes to replace in 5 waves (control planes one at a time, then oslo-mesh:rollout.maxUnavailable = 1 worker at a time)");
        assert.deepStrictEqual(lines.slice(1, 6).map((l) => l.split(/\s{2,}/).slice(1, 4).join(" | ")), [
            "wave 1 | control plane | prod-cp-2",
            "wave 2 | control plane | prod-cp-3",
            "wave 3 | worker | prod-worker-1",
            "wave 4 | worker | prod-worker-2",
            "wave 5 | worker | prod-worker-3",
        ]);
        assert.match(lines[7], /\(at most 15m\) before the next wave starts\.$/, "the default --health-timeout");
        assert.deepStrictEqual(ups(p.events()), []);
    });

    it("usage and configuration errors exit 2", async () => {
        const p = await project(current, stackFileConfig("prod"));
        const bad = async (args: string[]) => {
            const err: string[] = [];
            const code = await main(args, { dir: p.dir, env: p.env, out: () => undefined, err: (t) => err.push(t), upOutput: "out", desired: async () => current.engine });
            return { code, err: err.join("\n") };
        };
        assert.deepStrictEqual(await bad([]), { code: 2, err: "--stack is required\nusage: npm run roll -- --stack <stack> [--dry-run] [--allow-quorum-loss] [--health-timeout DURATION] [--poll DURATION]" });
        assert.match((await bad(["--stack", "prod", "--poll", "soon"])).err, /--poll must be a duration such as 30s or 15m, got soon/);
        assert.match((await bad(["--stack", "prod", "--max-unavailable", "3"])).err, /^Unknown option '--max-unavailable'/);
        assert.match((await bad(["--stack", "qa"])).err, /no stack file .*Pulumi\.qa\.yaml/);
    });
});
