// In-place upgrades executed: every upgrade script of a 3-control-plane, 3-worker cluster
// going from 1.14.10 to 1.15.12, each node a sandbox root whose kubeadm, kubelet and kubectl
// are versioned shims over the fakes of test/fixtures/day2bin (which follow kubeadm's and
// kubectl's real output and version policy, sources cited there), downloaded from a file://
// mirror laid out like dl.k8s.io with published .sha512 files, and a shared cluster state.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderUpgradeScript, renderWorkerMaintenanceScript, upgradeOrder, UpgradeRole } from "../components/kubernetes/day2/upgrade/render";
import { KubernetesConfig, renderPrepareScript } from "../components/kubernetes/render";
import { Day2Sandbox, day2Sandbox, DAY2_FAKEBIN } from "./day2.sandbox";
import { parsedConfig, stackFileConfig } from "./harness";

const CPS = ["prod-cp-1", "prod-cp-2", "prod-cp-3"];
const WORKERS = ["prod-worker-1", "prod-worker-2", "prod-worker-3"];
const OLD = "1.14.10";
const NEW = "1.15.12";

interface Cluster {
    readonly dir: string;
    readonly state: string;
    readonly mirror: string;
    readonly nodes: Map<string, Day2Sandbox>;
    node(name: string): { kubeletVersion: string; unschedulable: string; annotation: string | undefined };
    k(version: string, maxParallelWorkers?: number): KubernetesConfig;
    run(node: string, script: string, env?: Record<string, string>): { status: number | null; stdout: string; stderr: string };
    remove(): void;
}

function shims(version: string): Record<string, string> {
    return {
        kubeadm: `#!/bin/sh\nKUBEADM_FAKE_VERSION=${version} exec ${DAY2_FAKEBIN}/kubeadm "$@"\n`,
        kubectl: `#!/bin/sh\nexec ${DAY2_FAKEBIN}/kubectl "$@"\n`,
        kubelet: `#!/bin/sh\n[ "$1" = --version ] && echo "Kubernetes v${version}"\n`,
    };
}

/** A cluster at `from`, every node Ready, with a mirror of the `to` binaries. */
function cluster(cps: string[], workers: string[], from: string, to: string): Cluster {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-upgrade-"));
    const state = path.join(dir, "cluster");
    const mirror = path.join(dir, "mirror");
    fs.mkdirSync(state);
    fs.writeFileSync(path.join(state, "version"), `v${from}`);
    for (const v of [from, to]) {
        for (const [bin, content] of Object.entries(shims(v))) {
            const file = path.join(mirror, `release/v${v}/bin/linux/amd64/${bin}`);
            fs.mkdirSync(path.dirname(file), { recursive: true });
            fs.writeFileSync(file, content);
            fs.writeFileSync(`${file}.sha512`, `${crypto.createHash("sha512").update(content).digest("hex")}  ${bin}\n`);
        }
    }
    const base = parsedConfig("prod", stackFileConfig("prod")).kubernetes;
    const k = (version: string, maxParallelWorkers = 2): KubernetesConfig => ({ ...base, version, downloadBaseUrl: `file://${mirror}`, upgrade: { ...base.upgrade, maxParallelWorkers } });
    const nodes = new Map<string, Day2Sandbox>();
    for (const name of [...cps, ...workers]) {
        const sb = day2Sandbox(name);
        for (const [bin, content] of Object.entries(shims(from))) {
            sb.write(`usr/local/bin/${bin}`, content, 0o755);
            sb.write(`var/lib/oslo-mesh/artifacts/${bin}`, `file://${mirror}/release/v${from}/bin/linux/amd64/${bin}\n`);
        }
        sb.write("etc/kubernetes/kubelet.conf", "kind: Config\n");
        if (cps.includes(name)) {
            sb.write("etc/kubernetes/admin.conf", "kind: Config\n");
            sb.write("etc/kubernetes/manifests/kube-apiserver.yaml", `spec:\n  containers:\n  - command:\n    - kube-apiserver\n    image: k8s.gcr.io/kube-apiserver:v${from}\n`);
        }
        const nd = path.join(state, "nodes", name);
        fs.mkdirSync(nd, { recursive: true });
        fs.writeFileSync(path.join(nd, "kubeletVersion"), `v${from}`);
        fs.writeFileSync(path.join(nd, "ready"), "True");
        fs.writeFileSync(path.join(nd, "unschedulable"), "false");
        nodes.set(name, sb);
    }
    const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, "utf8").trim() : undefined);
    return {
        dir,
        state,
        mirror,
        nodes,
        k,
        node: (name) => {
            const nd = path.join(state, "nodes", name);
            return { kubeletVersion: read(path.join(nd, "kubeletVersion"))!, unschedulable: read(path.join(nd, "unschedulable"))!, annotation: read(path.join(nd, "annotation")) };
        },
        run(node, script, env = {}) {
            const sb = nodes.get(node)!;
            return sb.run(script, [], { PATH: `${sb.root}/usr/local/bin:${DAY2_FAKEBIN}:${process.env.PATH}`, CLUSTER_STATE: state, FAKE_NODE_NAME: node, ...env });
        },
        remove() {
            for (const sb of nodes.values()) sb.remove();
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}

/** Runs every step of the upgrade order, in that order, as Pulumi would (each after what it waits for). */
function runUpgrade(c: Cluster, k: KubernetesConfig, cps: string[], workers: string[], env: Record<string, string> = {}) {
    const results: Array<{ step: string; status: number | null; stderr: string }> = [];
    for (const step of upgradeOrder(cps, workers, k.upgrade.maxParallelWorkers)) {
        const role: UpgradeRole = step.node === cps[0] ? "first-control-plane" : cps.includes(step.node) ? "control-plane" : "worker";
        const r =
            step.kind === "upgrade"
                ? c.run(step.node, renderUpgradeScript(step.node, role, k, { root: c.nodes.get(step.node)!.root, waitSeconds: 5 }), env)
                : c.run(cps[0], renderWorkerMaintenanceScript(step.kind, step.node, k, { root: c.nodes.get(cps[0])!.root, waitSeconds: 5 }), env);
        results.push({ step: step.resource, status: r.status, stderr: r.stderr });
        if (r.status !== 0) break;
    }
    return results;
}

const calls = (c: Cluster, node: string) => c.nodes.get(node)!.calls().map((x) => x.replace(/ --kubeconfig \S+/, ""));

describe("day2: upgrade 1.14.10 → 1.15.12 of 3 control planes and 3 workers, every script executed", function () {
    this.timeout(120_000);
    let c: Cluster;
    beforeEach(() => (c = cluster(CPS, WORKERS, OLD, NEW)));
    afterEach(() => c.remove());

    it("upgrades in kubeadm's order and leaves every node at 1.15.12, Ready and schedulable", () => {
        const results = runUpgrade(c, c.k(NEW), CPS, WORKERS);
        for (const r of results) assert.strictEqual(r.status, 0, `${r.step}: ${r.stderr}`);
        assert.strictEqual(fs.readFileSync(path.join(c.state, "version"), "utf8").trim(), `v${NEW}`);
        for (const n of [...CPS, ...WORKERS]) {
            assert.deepStrictEqual(c.node(n), { kubeletVersion: `v${NEW}`, unschedulable: "false", annotation: undefined }, n);
            for (const bin of ["kubeadm", "kubelet", "kubectl"]) {
                assert.strictEqual(fs.readFileSync(c.nodes.get(n)!.file(`usr/local/bin/${bin}`), "utf8"), shims(NEW)[bin], `${n}: ${bin} ${NEW} installed`);
            }
        }
        // The first control plane: plan, then apply, with the new kubeadm.
        const first = calls(c, "prod-cp-1").filter((x) => x.startsWith("kubeadm upgrade"));
        assert.deepStrictEqual(first.slice(0, 2), [`kubeadm upgrade plan v${NEW}`, `kubeadm upgrade apply --yes v${NEW}`]);
        for (const cp of ["prod-cp-2", "prod-cp-3"]) {
            assert.deepStrictEqual(calls(c, cp).filter((x) => x.startsWith("kubeadm")), ["kubeadm upgrade node"], `${cp}: kubeadm upgrade node, once`);
            assert.match(fs.readFileSync(c.nodes.get(cp)!.file("etc/kubernetes/manifests/kube-apiserver.yaml"), "utf8"), /kube-apiserver:v1\.15\.12/);
        }
        for (const w of WORKERS) {
            const mine = calls(c, w);
            assert.ok(mine.includes("kubeadm upgrade node"));
            assert.ok(mine.indexOf("kubeadm upgrade node") < mine.indexOf("systemctl restart kubelet"), "kubelet config first, then the new kubelet");
            assert.match(fs.readFileSync(c.nodes.get(w)!.file("var/lib/kubelet/config.yaml"), "utf8"), /kubelet-config-1\.15/);
        }
        // Workers drained and uncordoned from the first control plane, each around its own upgrade.
        const fromFirst = calls(c, "prod-cp-1").filter((x) => / (drain|uncordon) /.test(x));
        assert.deepStrictEqual(fromFirst, WORKERS.flatMap((w) => [`kubectl drain ${w} --ignore-daemonsets --delete-local-data --timeout=10m`, `kubectl uncordon ${w}`]));
    });

    it("a second run changes nothing: no kubeadm upgrade, no drain, no kubelet restart, no download", () => {
        runUpgrade(c, c.k(NEW), CPS, WORKERS);
        for (const sb of c.nodes.values()) sb.clearCalls();
        const again = runUpgrade(c, c.k(NEW), CPS, WORKERS);
        for (const r of again) assert.strictEqual(r.status, 0, `${r.step}: ${r.stderr}`);
        for (const n of c.nodes.keys()) {
            const changes = calls(c, n).filter((x) => /^kubeadm upgrade|^kubectl (drain|uncordon|annotate)|^systemctl restart/.test(x));
            assert.deepStrictEqual(changes, [], `${n} changed nothing`);
        }
    });

    it("a failed kubeadm upgrade apply stops the upgrade with its log; the next run resumes and finishes", () => {
        const failed = runUpgrade(c, c.k(NEW), CPS, WORKERS, { FAKE_KUBEADM_APPLY_FAIL: "1" });
        assert.strictEqual(failed.length, 1);
        assert.match(failed[0].stderr, /kubeadm upgrade apply --yes v1\.15\.12 failed on prod-cp-1; its output: \/var\/log\/oslo-mesh\/kubeadm-upgrade\.log/);
        assert.match(failed[0].stderr, /couldn't upgrade control plane/);
        assert.doesNotMatch(failed[0].stderr, /cordoned/, "a control plane is never drained");
        assert.strictEqual(c.node("prod-worker-1").kubeletVersion, `v${OLD}`, "nothing else moved");
        const resumed = runUpgrade(c, c.k(NEW), CPS, WORKERS);
        for (const r of resumed) assert.strictEqual(r.status, 0, `${r.step}: ${r.stderr}`);
        assert.strictEqual(c.node("prod-worker-3").kubeletVersion, `v${NEW}`);
        assert.strictEqual(calls(c, "prod-cp-1").filter((x) => x.startsWith("kubeadm upgrade node")).length, 0);
    });

    it("a worker refuses to go before the control plane", () => {
        const r = c.run("prod-worker-1", renderUpgradeScript("prod-worker-1", "worker", c.k(NEW), { root: c.nodes.get("prod-worker-1")!.root, waitSeconds: 5 }));
        assert.notStrictEqual(r.status, 0);
        assert.match(r.stderr, /the cluster's control plane is at v1\.14\.10, not v1\.15\.12: the first control plane upgrades first/);
        assert.match(r.stderr, /if prod-worker-1 was drained for this upgrade, it stays cordoned until its upgrade to v1\.15\.12 completes/);
        assert.ok(!calls(c, "prod-worker-1").some((x) => x.startsWith("kubeadm upgrade") || x.startsWith("systemctl restart")));
    });

    it("a tampered kubeadm download aborts before anything is installed or upgraded", () => {
        fs.appendFileSync(path.join(c.mirror, `release/v${NEW}/bin/linux/amd64/kubeadm`), "# tampered\n");
        const r = c.run("prod-cp-1", renderUpgradeScript("prod-cp-1", "first-control-plane", c.k(NEW), { root: c.nodes.get("prod-cp-1")!.root, waitSeconds: 5 }));
        assert.notStrictEqual(r.status, 0);
        assert.match(r.stderr, /checksum mismatch for file:\/\/.*\/v1\.15\.12\/bin\/linux\/amd64\/kubeadm: expected [a-f0-9]{128}, got [a-f0-9]{128}; nothing was installed/);
        assert.strictEqual(fs.readFileSync(c.nodes.get("prod-cp-1")!.file("usr/local/bin/kubeadm"), "utf8"), shims(OLD).kubeadm);
        assert.strictEqual(fs.readFileSync(path.join(c.state, "version"), "utf8").trim(), `v${OLD}`);
    });

    it("a drain that kubectl refuses fails that worker's step and leaves it cordoned, not upgraded", () => {
        const results = runUpgrade(c, c.k(NEW), CPS, WORKERS, { FAKE_DRAIN_REFUSED: "prod-worker-2" });
        const last = results[results.length - 1];
        assert.strictEqual(last.step, "prod-worker-2-drain");
        assert.match(last.stderr, /could not drain prod-worker-2 for its upgrade to v1\.15\.12; it stays cordoned/);
        assert.match(last.stderr, /cannot delete Pods not managed by ReplicationController/);
        assert.deepStrictEqual(c.node("prod-worker-2"), { kubeletVersion: `v${OLD}`, unschedulable: "true", annotation: `v${NEW}` });
    });

    it("1.13 → 1.14 on one control plane and a worker uses 1.14's 'kubeadm upgrade node config --kubelet-version'", () => {
        c.remove();
        c = cluster(["dev-cp-1"], ["dev-worker-1"], "1.13.12", "1.14.10");
        const results = runUpgrade(c, c.k("1.14.10", 1), ["dev-cp-1"], ["dev-worker-1"]);
        for (const r of results) assert.strictEqual(r.status, 0, `${r.step}: ${r.stderr}`);
        assert.ok(calls(c, "dev-worker-1").includes("kubeadm upgrade node config --kubelet-version v1.14.10"));
        assert.strictEqual(c.node("dev-worker-1").kubeletVersion, "v1.14.10");
    });

    it("node preparation re-run for the new version leaves a joined node's kubelet alone (the upgrade step changes it)", () => {
        const sb = c.nodes.get("prod-worker-1")!;
        const k = c.k(NEW);
        const r = spawnSync("bash", ["-c", renderPrepareScript("prod-worker-1", { ...k, githubBaseUrl: "file:///nonexistent" }, { root: sb.root })], {
            encoding: "utf8",
            env: { PATH: `${path.join(__dirname, "fixtures", "fakebin")}:${process.env.PATH}`, SANDBOX: sb.dir, HOME: sb.dir },
        });
        // crictl and the CNI plugins are not in this mirror: preparation stops there, after deciding about the Kubernetes binaries.
        assert.match(r.stdout, /kubelet: left as installed; this node's upgrade step changes its version/);
        assert.strictEqual(fs.readFileSync(sb.file("usr/local/bin/kubelet"), "utf8"), shims(OLD).kubelet);
    });
});
