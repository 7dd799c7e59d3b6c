// Day 2 under Pulumi's mocks: the upgrade's dependency graph for 3 control planes and 3
// workers (kubeadm's order, one control plane at a time, bounded worker batches), the version
// gate, and the day-2 jobs on every control plane. Dynamic providers do not run under mocks:
// the gate's check is tested directly, and through the provider text the gate ships in the state.
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { KubeadmCluster, nodeCidrs } from "../components/kubernetes";
import { checkVersionGate } from "../components/kubernetes/day2";
import { istioSupportWarning, versionTransitionProblem } from "../components/kubernetes/day2/versions";
import { createNodes } from "../components/vps";
import { waitsFor } from "../plan/graph";
import { MockRecorder, RecordedResource, settled, startMockRuntime } from "../plan/mocks";
import { machineOf } from "../roll/machine";
import { loadProvider } from "./dynamicHost";
import { parsedConfig, stackFileConfig, valueOf } from "./harness";

const RANDOM: Record<string, string> = { "prod-token-id": "abc123", "prod-token-secret": "0123456789abcdef", "prod-certificate-key": "f".repeat(64) };
const CPS = ["prod-cp-1", "prod-cp-2", "prod-cp-3"];
const WORKERS = ["prod-worker-1", "prod-worker-2", "prod-worker-3"];

/** Start and end of every resource when each takes one unit and starts as soon as what it waits for is done. */
function schedule(resources: ReadonlyArray<RecordedResource>): Map<string, { start: number; end: number }> {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const at = new Map<string, { start: number; end: number }>();
    const visit = (r: RecordedResource): { start: number; end: number } => {
        if (!at.has(r.urn)) {
            const start = Math.max(0, ...r.dependsOn.filter((u) => byUrn.has(u)).map((u) => visit(byUrn.get(u)!).end));
            at.set(r.urn, { start, end: start + (r.custom ? 1 : 0) });
        }
        return at.get(r.urn)!;
    };
    resources.forEach(visit);
    return new Map([...at].map(([urn, t]) => [byUrn.get(urn)!.name, t]));
}

describe("day2: upgrade order, version gate and jobs under mocks (3 control planes, 3 workers, 2 workers at a time)", () => {
    let recorder: MockRecorder;
    let cluster: KubeadmCluster;
    const base = parsedConfig("prod", stackFileConfig("prod"));
    const cfg = { ...base, kubernetes: { ...base.kubernetes, upgrade: { ...base.kubernetes.upgrade, maxParallelWorkers: 2 } } };
    const names = (r: RecordedResource) => {
        const byUrn = new Map(recorder.resources.map((x) => [x.urn, x]));
        return new Set([...waitsFor(recorder.resources, r)].map((u) => byUrn.get(u)!.name));
    };

    before(async () => {
        recorder = await startMockRuntime({
            stack: "prod",
            preview: false,
            outputs: ({ type, name }) => {
                if (type === "random:index/randomPassword:RandomPassword") return { result: RANDOM[name] };
                if (name === "prod-init") return { stdout: `caCertHash=sha256:${"d".repeat(64)}\n` };
                if (name.endsWith("-etcd-snapshots")) return { stdout: `backupKey=ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${name} oslo-mesh-etcd-backup@${name}\n` };
                return undefined;
            },
        });
        const nodes = createNodes({ ...cfg, ssh: { ...cfg.ssh, privateKey: pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nk\n-----END OPENSSH PRIVATE KEY-----\n") } });
        cluster = new KubeadmCluster("prod", { nodes, kubernetes: cfg.kubernetes, clusterName: "oslo-mesh-prod", nodeCidrs: nodeCidrs(cfg), publicPorts: [] });
        await valueOf(cluster.day2.etcdBackupKeys);
        await settled();
    });

    it("the first control plane upgrades first, after the version gate and its init", () => {
        const deps = names(recorder.byName("prod-cp-1-upgrade"));
        assert.ok(deps.has("prod-day2-kubernetes-version") && deps.has("prod-init"));
        assert.ok(![...deps].some((d) => d.startsWith("prod-cp-2") || d.startsWith("prod-worker")), "it waits for no other node");
    });

    it("the other control planes upgrade one at a time, each after it joined", () => {
        assert.ok(names(recorder.byName("prod-cp-2-upgrade")).has("prod-cp-1-upgrade"));
        assert.ok(names(recorder.byName("prod-cp-2-upgrade")).has("prod-cp-2-registered"));
        assert.ok(names(recorder.byName("prod-cp-3-upgrade")).has("prod-cp-2-upgrade"));
        const t = schedule(recorder.resources);
        const cps = CPS.map((n) => t.get(`${n}-upgrade`)!);
        for (let i = 1; i < cps.length; i++) assert.ok(cps[i].start >= cps[i - 1].end, `${CPS[i]} starts after ${CPS[i - 1]} ends`);
    });

    it("workers go after every control plane, drained, upgraded and uncordoned in that order", () => {
        for (const w of WORKERS) {
            const drain = names(recorder.byName(`${w}-drain`));
            for (const cp of CPS) assert.ok(drain.has(`${cp}-upgrade`), `${w} waits for ${cp}`);
            assert.ok(drain.has(`${w}-registered`));
            assert.ok(names(recorder.byName(`${w}-upgrade`)).has(`${w}-drain`));
            assert.ok(names(recorder.byName(`${w}-uncordon`)).has(`${w}-upgrade`));
        }
        // Drain and uncordon run on the first control plane; the upgrade on the worker itself.
        const host = (name: string) => JSON.stringify(recorder.byName(name).inputs.connection);
        assert.strictEqual(host("prod-worker-1-drain"), host("prod-cp-1-upgrade"));
        assert.notStrictEqual(host("prod-worker-1-upgrade"), host("prod-cp-1-upgrade"));
    });

    it("at most kubernetes.upgrade.maxParallelWorkers (2) workers are out at once; the third waits for the first", () => {
        const t = schedule(recorder.resources);
        const out = WORKERS.map((w) => ({ w, start: t.get(`${w}-drain`)!.start, end: t.get(`${w}-uncordon`)!.end }));
        const moments = [...new Set(out.flatMap((o) => [o.start, o.end]))];
        const most = Math.max(...moments.map((m) => out.filter((o) => o.start <= m && m < o.end).length));
        assert.strictEqual(most, 2);
        assert.ok(names(recorder.byName("prod-worker-3-drain")).has("prod-worker-1-uncordon"));
        assert.ok(!names(recorder.byName("prod-worker-2-drain")).has("prod-worker-1-uncordon"));
    });

    it("nothing of the bootstrap waits on a day-2 step: the cluster and its kubeconfig come first", () => {
        const day2 = /-(upgrade|drain|uncordon|etcd-snapshots|certificate-renewal|kubernetes-version)$/;
        for (const r of recorder.resources.filter((x) => x.custom && !day2.test(x.name))) {
            const waiting = [...names(r)].filter((n) => day2.test(n));
            assert.deepStrictEqual(waiting, [], `${r.name} waits on no day-2 step`);
        }
    });

    it("a version change does not replace the VMs or the joins: neither reads the version, and the joins update in place", () => {
        for (const n of [...CPS, ...WORKERS]) {
            assert.ok(!JSON.stringify(recorder.byName(`${n}-vm`).inputs).includes(cfg.kubernetes.version), `${n}-vm does not depend on the version`);
            const join = recorder.byName(n === "prod-cp-1" ? "prod-init" : `${n}-join`);
            // Its only trigger is its machine's (roll/machine.ts), which the version is no part of: a changed script is an in-place update (@pulumi/command 1.2.1).
            assert.ok(n === "prod-cp-1" ? join.inputs.triggers === undefined : machineOf(join.inputs)?.node === n, `${join.name}'s triggers`);
            assert.ok(!JSON.stringify(join.inputs.triggers ?? null).includes(cfg.kubernetes.version));
        }
        for (const step of recorder.resources.filter((r) => /-(upgrade|drain|uncordon)$/.test(r.name))) {
            assert.strictEqual(step.inputs.create, step.inputs.update, `${step.name}: the same script for create and update`);
        }
    });

    it("every control plane gets the etcd snapshot timer and the certificate renewal after its own upgrade; the backup keys come out", async () => {
        for (const cp of CPS) {
            for (const job of ["etcd-snapshots", "certificate-renewal"]) {
                const r = recorder.byName(`${cp}-${job}`);
                assert.ok(names(r).has(`${cp}-upgrade`));
                assert.match(String(r.inputs.delete), /readonly ACTION='remove'/);
            }
        }
        assert.ok(!recorder.resources.some((r) => /worker-\d+-(etcd-snapshots|certificate-renewal)$/.test(r.name)), "workers have no etcd");
        const keys = await valueOf(cluster.day2.etcdBackupKeys);
        assert.deepStrictEqual(Object.keys(keys).sort(), CPS);
    });

    it("the gate registers its version, and the provider it ships in the state refuses a skipped minor by the config key", async () => {
        const gate = recorder.byType("pulumi-nodejs:dynamic/kubernetes:VersionGate");
        assert.strictEqual(gate.length, 1);
        assert.strictEqual(gate[0].inputs.version, "1.15.12");
        const provider = loadProvider(gate[0].inputs.__provider);
        const refused = await provider.check({ version: "1.13.5" }, { version: "1.15.12" });
        assert.match(refused.failures![0].reason, /^oslo-mesh:kubernetes\.version: 1\.13\.5 → 1\.15\.12 skips a minor version/);
        assert.deepStrictEqual((await provider.check({ version: "1.14.10" }, { version: "1.15.12" })).failures, undefined);
    });
});

describe("day2: the version gate's rules", () => {
    const reason = async (from: string | undefined, to: string) => (await checkVersionGate(from === undefined ? {} : { version: from }, { version: to })).failures?.[0]?.reason;
    it("allows a first install, a patch and the next minor", async () => {
        for (const [from, to] of [[undefined, "1.13.5"], ["1.15.11", "1.15.12"], ["1.13.12", "1.14.10"], ["1.14.10", "1.15.12"], ["1.15.12", "1.15.12"]] as const) {
            assert.strictEqual(await reason(from, to), undefined, `${from} → ${to}`);
        }
    });
    it("refuses a skipped minor, a downgrade and a version outside 1.13–1.15, naming oslo-mesh:kubernetes.version", async () => {
        assert.strictEqual(await reason("1.13.5", "1.15.12"), "oslo-mesh:kubernetes.version: 1.13.5 → 1.15.12 skips a minor version; kubeadm upgrades one minor at a time: set 1.14.x first, run pulumi up, then 1.15.12");
        assert.match((await reason("1.15.12", "1.14.10"))!, /^oslo-mesh:kubernetes\.version: 1\.15\.12 → 1\.14\.10 is a downgrade/);
        assert.match((await reason("1.15.12", "1.15.11"))!, /is a downgrade/);
        assert.match((await reason("1.15.12", "1.16.0"))!, /^oslo-mesh:kubernetes\.version: 1\.16\.0 is outside 1\.13 to 1\.15/);
        assert.match((await reason(undefined, "1.12.10"))!, /outside 1\.13 to 1\.15/);
        assert.match(versionTransitionProblem("1.14.1", "2.0.0")!, /outside/);
    });
    it("warns when a version leaves what Istio 1.3 is tested with (silent while the ranges agree)", () => {
        assert.strictEqual(istioSupportWarning("1.15.12"), undefined);
        assert.match(istioSupportWarning("1.15.12", ["1.13", "1.14"])!, /^oslo-mesh:kubernetes\.version: Kubernetes 1\.15\.12 is outside what Istio 1\.3 is tested with \(1\.13, 1\.14\); upgrade Istio first$/);
    });
});
