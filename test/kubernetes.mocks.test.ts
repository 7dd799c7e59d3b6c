// KubeadmCluster under Pulumi's mocks: the dependency graph and the secrets.
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { KubeadmCluster, nodeCidrs } from "../components/kubernetes";
import { createNodes } from "../components/vps";
import { waitsFor } from "../plan/graph";
import { MockRecorder, RecordedResource, SECRET_SIG, settled, startMockRuntime } from "../plan/mocks";
import { isSecret, parsedConfig, stackFileConfig, valueOf } from "./harness";

const PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nk8s-mock-key\n-----END OPENSSH PRIVATE KEY-----\n";
const RANDOM: Record<string, string> = { "prod-token-id": "abc123", "prod-token-secret": "0123456789abcdef", "prod-certificate-key": "f".repeat(64) };
const KUBECONFIG = "apiVersion: v1\nkind: Config\nusers: [{name: admin, user: {client-key-data: c2VjcmV0LWtleQ==}}]\n";

/** The names of every resource a resource waits for, directly or through others. */
function closure(recorder: MockRecorder, r: RecordedResource): Set<string> {
    const byUrn = new Map(recorder.resources.map((x) => [x.urn, x]));
    return new Set([...waitsFor(recorder.resources, r)].map((u) => byUrn.get(u)!.name));
}

describe("kubernetes: KubeadmCluster under mocks", () => {
    let recorder: MockRecorder;
    let cluster: KubeadmCluster;
    const cfg = parsedConfig("prod", stackFileConfig("prod"));

    before(async () => {
        recorder = await startMockRuntime({
            stack: "prod",
            preview: false,
            outputs: ({ type, name }) => {
                if (type === "random:index/randomPassword:RandomPassword") return { result: RANDOM[name] };
                if (name === "prod-init") return { stdout: `caCertHash=sha256:${"d".repeat(64)}\n` };
                if (name === "prod-kubeconfig") return { stdout: KUBECONFIG };
                return undefined;
            },
        });
        const nodes = createNodes({ ...cfg, ssh: { ...cfg.ssh, privateKey: pulumi.secret(PRIVATE_KEY) } });
        cluster = new KubeadmCluster("prod", { nodes, kubernetes: cfg.kubernetes, clusterName: "oslo-mesh-prod", nodeCidrs: nodeCidrs(cfg), publicPorts: ["30000:32767"] });
        await valueOf(cluster.kubeconfig);
        await settled();
    });

    it("each worker's join waits for the init and its own node, and for no other worker", () => {
        for (const w of ["prod-worker-1", "prod-worker-2", "prod-worker-3"]) {
            const deps = closure(recorder, recorder.byName(`${w}-join`));
            for (const needed of ["prod-init", `${w}-prepare`, `${w}-firewall`, `${w}-vm`, `${w}-admit`]) assert.ok(deps.has(needed), `${w}-join waits for ${needed}`);
            const otherWorkers = [...deps].filter((d) => d.startsWith("prod-worker-") && !d.startsWith(`${w}-`));
            assert.deepStrictEqual(otherWorkers, [], `${w}-join waits for no other worker`);
            assert.ok(!deps.has("prod-cp-2-join") && !deps.has("prod-cp-3-join"), `${w} does not wait for the other control planes`);
        }
    });

    it("no node's preparation waits for an unrelated node", () => {
        for (const n of cfg.nodes) {
            for (const step of ["prepare", "firewall"]) {
                const deps = [...closure(recorder, recorder.byName(`${n.name}-${step}`))];
                assert.deepStrictEqual(deps, [`${n.name}-vm`], `${n.name}-${step} waits only for its own VM`);
            }
        }
    });

    it("control planes join one at a time, after the init", () => {
        const cp2 = closure(recorder, recorder.byName("prod-cp-2-join"));
        const cp3 = closure(recorder, recorder.byName("prod-cp-3-join"));
        assert.ok(cp2.has("prod-init") && !cp2.has("prod-cp-3-join"));
        assert.ok(cp3.has("prod-cp-2-join"), "cp-3 joins after cp-2's join (its etcd member started and healthy)");
        assert.ok(!cp3.has("prod-cp-2-registered"), "and not after cp-2 is Ready, which cp-3's join does not need");
        assert.deepStrictEqual([...closure(recorder, recorder.byName("prod-init"))].filter((d) => d.startsWith("prod-cp-2") || d.startsWith("prod-worker")), []);
    });

    it("the provider comes from the kubeconfig as soon as the API server answers: after the init, before the CNI or any join", () => {
        const provider = recorder.byType("pulumi:providers:kubernetes")[0];
        const deps = closure(recorder, provider);
        assert.ok(deps.has("prod-kubeconfig") && deps.has("prod-init"));
        // CRDs and namespaces go in while the nodes join; what runs on the workers waits for workersReady.
        const joins = [...deps].filter((d) => /-(admit|join|registered)$/.test(d) || d === "prod-cni");
        assert.deepStrictEqual(joins, [], "the provider waits for no join and no CNI");
    });

    it("workersReady is each worker's registered step, which waits for the pod network and the worker's join", async () => {
        const urns = await Promise.all(cluster.workersReady.map((r) => valueOf(r.urn)));
        const workers = cfg.nodes.filter((n) => n.role === "worker").map((n) => n.name);
        assert.deepStrictEqual(urns.map((u) => recorder.resources.find((x) => x.urn === u)?.name), workers.map((w) => `${w}-registered`));
        for (const w of workers) {
            const deps = closure(recorder, recorder.byName(`${w}-registered`));
            assert.ok(deps.has("prod-cni") && deps.has(`${w}-join`), `${w}-registered waits for the CNI and its join`);
        }
    });

    it("kubeconfig, bootstrap token, certificate key and SSH key are secrets, and reach no script or log", async () => {
        assert.ok(await isSecret(cluster.kubeconfig));
        assert.strictEqual(await valueOf(cluster.kubeconfig), KUBECONFIG);
        const kubeconfigCmd = recorder.byName("prod-kubeconfig");
        assert.strictEqual(kubeconfigCmd.inputs.logging, "none", "the kubeconfig never reaches the command log");
        for (const r of recorder.resources.filter((x) => x.type === "command:remote:Command")) {
            const plain = JSON.stringify({ create: r.inputs.create, update: r.inputs.update, delete: r.inputs.delete });
            for (const secret of ["abc123.0123456789abcdef", RANDOM["prod-certificate-key"], PRIVATE_KEY.trim()]) {
                assert.ok(!plain.includes(secret), `${r.name}'s scripts hold no secret`);
            }
            const stdin = r.inputs.stdin as Record<string, unknown> | undefined;
            if (stdin !== undefined) assert.strictEqual(stdin["4dabf18193072939515e22adb298388d"], SECRET_SIG, `${r.name}'s stdin is secret`);
            assert.strictEqual((r.inputs.connection as Record<string, unknown>)["4dabf18193072939515e22adb298388d"], SECRET_SIG, `${r.name}'s connection is secret`);
        }
        const init = recorder.byName("prod-init").inputs.stdin as { value: string };
        assert.strictEqual(init.value, "token=abc123.0123456789abcdef\ncertificateKey=" + "f".repeat(64) + "\n");
        const join = recorder.byName("prod-worker-1-join").inputs.stdin as { value: string };
        assert.match(join.value, new RegExp(`\\ncaCertHash=sha256:${"d".repeat(64)}\\n$`));
    });

    it("removal runs in kubeadm's order: drain (registered), kubeadm reset on the node (join), then the Node deleted and etcd checked (admit)", () => {
        for (const [node, controlPlane] of [["prod-worker-2", false], ["prod-cp-3", true]] as const) {
            const [registered, join, admit] = ["registered", "join", "admit"].map((s) => recorder.byName(`${node}-${s}`));
            assert.match(String(registered.inputs.delete), /readonly ACTION='drain'/);
            assert.match(String(join.inputs.delete), /kubeadm reset --force/);
            assert.match(String(admit.inputs.delete), /readonly ACTION='forget'/);
            assert.match(String(admit.inputs.delete), new RegExp(`readonly CONTROL_PLANE='${controlPlane}'`));
            // Pulumi deletes dependents first: registered before join, join before admit, and all of them before the VM.
            assert.ok(closure(recorder, registered).has(`${node}-join`));
            assert.ok(closure(recorder, join).has(`${node}-admit`));
            assert.ok(closure(recorder, join).has(`${node}-vm`));
            // The drain and the Node's deletion run on the first control plane, the reset on the node itself.
            const host = (r: RecordedResource) => (r.inputs.connection as { value: { host: string } }).value.host;
            assert.strictEqual(host(registered), host(recorder.byName("prod-init")));
            assert.strictEqual(host(admit), host(recorder.byName("prod-init")));
            assert.notStrictEqual(host(join), host(recorder.byName("prod-init")));
        }
    });

    it("a node is watched until Ready only once the pod network is applied", () => {
        assert.ok(closure(recorder, recorder.byName("prod-worker-1-registered")).has("prod-cni"));
    });

    it("the firewall step keeps the SSH client's address through sudo, to refuse locking it out", () => {
        assert.match(String(recorder.byName("prod-worker-1-firewall").inputs.create), /sudo -n env SSH_CLIENT="\$SSH_CLIENT" bash "\$f"/);
    });
});
