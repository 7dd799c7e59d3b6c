// A node's life in the cluster, executed: kubeadm init and join, admitting a node, waiting for it
// to be Ready, and removing it in kubeadm's order. The scripts run in the sandbox against the fake
// kubeadm and kubectl (test/fixtures/fakebin, written from kubeadm 1.15's source) and a REAL
// etcd 3.4 cluster over TLS: every member check is the real etcdctl's answer.
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as jsyaml from "js-yaml";
import {
    ClusterShape,
    NodeIdentity,
    joinStdin,
    parseCaCertHash,
    renderAdmitConfig,
    renderInitConfig,
    renderInitScript,
    renderJoinConfig,
    renderJoinScript,
    renderKubeconfigScript,
    renderLifecycleScript,
    renderResetScript,
    secretsStdin,
} from "../components/kubernetes/render";
import { CERT_KEY, RunResult, Sandbox, TOKEN, etcdMissing, kubeConfig, loopbackNet, sandbox } from "./kubernetes.sandbox";
import { requireOrSkip } from "./libvirt";

const ok = (r: RunResult, what: string) => assert.strictEqual(r.status, 0, `${what}: ${r.stderr}${r.stdout}`);

/** A cluster in the sandbox: node identities on loopback addresses, and the scripts to run on them. */
class Cluster {
    readonly shape: ClusterShape;
    readonly ip: (host: number) => string;
    readonly first: NodeIdentity;
    caHash = "";

    constructor(
        readonly sb: Sandbox,
        ha: boolean,
    ) {
        this.ip = loopbackNet();
        const k = kubeConfig(sb);
        this.first = { name: "prod-cp-1", ip: this.ip(10) };
        this.shape = { k, clusterName: "oslo-mesh-prod", endpoint: `${this.first.ip}:6443`, ha };
    }

    node(name: string, host: number): NodeIdentity {
        return { name, ip: this.ip(host) };
    }

    initScript(): string {
        return renderInitScript(this.first, this.shape.k, renderInitConfig(this.shape, this.first, [this.first.ip]), this.shape.ha, { root: this.sb.rootOf(this.first.name), waitSeconds: 0 });
    }

    init(env: Record<string, string> = {}): RunResult {
        const r = this.sb.runOn(this.first.name, this.initScript(), secretsStdin(TOKEN, CERT_KEY), env);
        if (r.status === 0) this.caHash = parseCaCertHash(r.stdout);
        return r;
    }

    lifecycle(action: "admit" | "wait" | "drain" | "forget", node: NodeIdentity, controlPlane: boolean): RunResult {
        const script = renderLifecycleScript(action, node, this.first, { admitConfig: renderAdmitConfig(this.shape), controlPlane, root: this.sb.rootOf(this.first.name), waitSeconds: 0, drainSeconds: 300 });
        return this.sb.runOn(this.first.name, script, action === "admit" ? secretsStdin(TOKEN, CERT_KEY) : "");
    }

    joinScript(node: NodeIdentity, controlPlane: boolean): string {
        return renderJoinScript(node, renderJoinConfig(this.shape, node, controlPlane), controlPlane, this.first, { root: this.sb.rootOf(node.name), waitSeconds: 0 });
    }

    joinOnly(node: NodeIdentity, controlPlane: boolean, env: Record<string, string> = {}): RunResult {
        return this.sb.runOn(node.name, this.joinScript(node, controlPlane), joinStdin(secretsStdin(TOKEN, CERT_KEY), this.caHash), env);
    }

    /** What `pulumi up` runs for a further node: admit, join, then wait until it is Ready. */
    join(node: NodeIdentity, controlPlane: boolean): void {
        ok(this.lifecycle("admit", node, controlPlane), `admit ${node.name}`);
        ok(this.joinOnly(node, controlPlane), `join ${node.name}`);
        ok(this.lifecycle("wait", node, controlPlane), `wait for ${node.name}`);
    }

    /** What removing a node from the stack runs: the deletes of registered, join and admit, in that order. */
    remove(node: NodeIdentity, controlPlane: boolean): RunResult[] {
        return [
            this.lifecycle("drain", node, controlPlane),
            this.sb.runOn(node.name, renderResetScript(node.name, { root: this.sb.rootOf(node.name) })),
            this.lifecycle("forget", node, controlPlane),
        ];
    }

    /** The pod network, as the cni step applies it: the nodes become Ready. */
    applyCni(): void {
        const kubectl = this.sb.runOn(this.first.name, `#!/usr/bin/env bash\nset -euo pipefail\nprintf 'kind: DaemonSet\\n' >"$SANDBOX/calico.yaml"\nkubectl --kubeconfig "$FAKE_ROOT/etc/kubernetes/admin.conf" apply -f "$SANDBOX/calico.yaml"\n`);
        ok(kubectl, "apply the CNI");
    }

    members(): string[] {
        const r = this.sb.etcdctl(this.first.name, "member", "list");
        ok(r, "etcdctl member list");
        return r.stdout.trim().split("\n").map((l) => l.split(", ")[2]);
    }
}

describe("kubernetes: kubeadm init and join against a real etcd", function () {
    this.timeout(120000);
    let sb: Sandbox;
    before(function () {
        requireOrSkip(this, etcdMissing());
    });
    beforeEach(() => (sb = sandbox()));
    afterEach(() => sb.cleanup());

    it("init runs kubeadm once, with the key kept out of its 0600 log, and prints the CA hash; a second run changes nothing", () => {
        const c = new Cluster(sb, true);
        const r = c.init();
        ok(r, "init");
        const root = sb.rootOf("prod-cp-1");
        const config = path.join(root, "etc/kubernetes/oslo-mesh/kubeadm-init.yaml");
        assert.deepStrictEqual(sb.calls().filter((x) => x.startsWith("kubeadm")), [`kubeadm init --skip-token-print --skip-certificate-key-print --upload-certs --config ${config}`]);
        assert.strictEqual(fs.statSync(config).mode & 0o777, 0o600);
        const log = path.join(root, "var/log/oslo-mesh/kubeadm-init.log");
        assert.strictEqual(fs.statSync(log).mode & 0o777, 0o600, "the init log is root's only");
        assert.ok(!fs.readFileSync(log, "utf8").includes(CERT_KEY), "kubeadm printed no certificate key into its log");
        const [init, cluster] = jsyaml.loadAll(fs.readFileSync(config, "utf8")) as Array<Record<string, any>>;
        assert.strictEqual(init.bootstrapTokens[0].token, TOKEN);
        assert.strictEqual(init.certificateKey, CERT_KEY);
        assert.strictEqual(cluster.imageRepository, "registry.k8s.io");
        const der = crypto.createPublicKey(fs.readFileSync(path.join(root, "etc/kubernetes/pki/ca.crt"))).export({ type: "spki", format: "der" });
        assert.strictEqual(r.stdout.trim(), `caCertHash=sha256:${crypto.createHash("sha256").update(der).digest("hex")}`);
        for (const out of [r.stdout, r.stderr, sb.calls().join("\n")]) assert.ok(!out.includes(TOKEN) && !out.includes(CERT_KEY), "no secret in the output or on a command line");
        assert.deepStrictEqual(c.members(), ["prod-cp-1"]);

        sb.clearCalls();
        const again = c.init();
        ok(again, "init again");
        assert.match(again.stderr, /already initialised/);
        assert.deepStrictEqual(sb.calls().filter((x) => x.startsWith("kubeadm")), []);
        assert.strictEqual(again.stdout, r.stdout);
    });

    it("init refuses to run without valid secrets on standard input", () => {
        const c = new Cluster(sb, false);
        const r = sb.runOn("prod-cp-1", c.initScript(), "token=short\n");
        assert.notStrictEqual(r.status, 0);
        assert.match(r.stderr, /no valid bootstrap token on standard input/);
        assert.deepStrictEqual(sb.calls(), []);
    });

    it("an init that stopped after writing admin.conf is resumed from the cluster's state, not taken as done", () => {
        const c = new Cluster(sb, true);
        const failed = c.init({ FAKE_KUBEADM_FAIL_AT: "upload-config" });
        assert.notStrictEqual(failed.status, 0);
        assert.ok(fs.existsSync(path.join(sb.rootOf("prod-cp-1"), "etc/kubernetes/admin.conf")), "kubeadm wrote admin.conf before failing");
        sb.clearCalls();
        const resumed = c.init();
        ok(resumed, "init again");
        assert.match(resumed.stderr, /kubeadm init stopped halfway \(node prod-cp-1 is not a registered control plane\); running its last phases again/);
        assert.deepStrictEqual(
            sb.calls().filter((x) => x.startsWith("kubeadm")).map((x) => x.replace(/ --config \S+$/, "")),
            ["kubeadm init phase upload-config all", "kubeadm init phase upload-certs --upload-certs --skip-certificate-key-print", "kubeadm init phase mark-control-plane", "kubeadm init phase bootstrap-token", "kubeadm init phase addon all"],
        );
        const state = sb.cluster();
        assert.ok("kube-system/kube-proxy" in state.daemonSets && "kube-public/cluster-info" in state.configMaps);
        assert.strictEqual(state.nodes["prod-cp-1"].metadata.labels["node-role.kubernetes.io/master"], "");
        assert.ok(TOKEN.split(".")[0] in state.tokens, "the bootstrap token exists for the joins");
    });

    it("an init whose control plane never came up is reset and run again", () => {
        const c = new Cluster(sb, false);
        assert.notStrictEqual(c.init({ FAKE_KUBEADM_FAIL_AT: "wait-control-plane" }).status, 0);
        sb.clearCalls();
        const again = c.init();
        ok(again, "init again");
        assert.match(again.stderr, /stopped before its control plane came up \(the API server does not answer\); kubeadm reset, then init again/);
        assert.deepStrictEqual(sb.calls().filter((x) => x.startsWith("kubeadm")).map((x) => x.split(" ").slice(0, 2).join(" ")), ["kubeadm reset", "kubeadm init"]);
        assert.deepStrictEqual(c.members(), ["prod-cp-1"]);
    });

    it("a control plane that was initialised is never reset when it stops answering", () => {
        const c = new Cluster(sb, false);
        ok(c.init(), "init");
        sb.clearCalls();
        const r = c.init({ FAKE_APISERVER_DOWN: "1" });
        assert.notStrictEqual(r.status, 0);
        assert.match(r.stderr, /prod-cp-1 was initialised before, but now the API server does not answer\. Not resetting/);
        assert.ok(!sb.calls().some((x) => x.startsWith("kubeadm reset")));
    });

    it("admitting a node finds the token init made in real `kubeadm token list` output, and recreates it once expired", () => {
        const c = new Cluster(sb, true);
        ok(c.init(), "init");
        const list = sb.runOn("prod-cp-1", `#!/usr/bin/env bash\nkubeadm token list --kubeconfig "$FAKE_ROOT/etc/kubernetes/admin.conf"\n`);
        assert.match(list.stdout, /^TOKEN {21}TTL {7}EXPIRES {16}USAGES {19}DESCRIPTION {16}EXTRA GROUPS\nabcdef\.0123456789abcdef {3}23h {7}\S+Z {3}authentication,signing {3}oslo-mesh node bootstrap {3}system:bootstrappers:kubeadm:default-node-token\n$/);
        sb.clearCalls();
        const cp2 = c.node("prod-cp-2", 11);
        const admit = c.lifecycle("admit", cp2, true);
        ok(admit, "admit");
        assert.deepStrictEqual(
            sb.calls().filter((x) => x.startsWith("kubeadm")).map((x) => x.split(" --")[0]),
            ["kubeadm token list", "kubeadm init phase upload-certs"],
            "the existing token is not created again (kubeadm token create would fail: it exists)",
        );
        assert.ok(!(admit.stdout + admit.stderr).includes(TOKEN.split(".")[1]), "the listing's secrets stay in the pipe");
        assert.ok(sb.calls().includes(`kubeadm init phase upload-certs --upload-certs --skip-certificate-key-print --config ${sb.calls().find((x) => x.startsWith("kubeadm init phase"))!.split("--config ")[1]}`));

        sb.editCluster((s) => (s.tokens = {})); // the token controller deletes an expired token
        sb.clearCalls();
        ok(c.lifecycle("admit", c.node("prod-worker-1", 20), false), "admit after expiry");
        assert.deepStrictEqual(sb.calls().filter((x) => x.startsWith("kubeadm")).map((x) => x.split(" --")[0]), ["kubeadm token list", "kubeadm token create"], "a worker needs no certificates");
        assert.ok("abcdef" in sb.cluster().tokens);
    });

    it("workers and control planes join, become Ready, and a second run changes nothing", () => {
        const c = new Cluster(sb, true);
        ok(c.init(), "init");
        c.applyCni();
        const cp2 = c.node("prod-cp-2", 11);
        const w1 = c.node("prod-worker-1", 20);
        c.join(cp2, true);
        c.join(w1, false);
        assert.deepStrictEqual(c.members().sort(), ["prod-cp-1", "prod-cp-2"]);
        const state = sb.cluster();
        assert.strictEqual(state.nodes["prod-worker-1"].status.conditions[0].status, "True");
        const join = jsyaml.load(fs.readFileSync(path.join(sb.rootOf("prod-cp-2"), "etc/kubernetes/oslo-mesh/kubeadm-join.yaml"), "utf8")) as Record<string, any>;
        assert.deepStrictEqual(join.controlPlane, { localAPIEndpoint: { advertiseAddress: cp2.ip, bindPort: 6443 }, certificateKey: CERT_KEY });
        assert.deepStrictEqual(join.discovery.bootstrapToken.caCertHashes, [c.caHash]);
        sb.clearCalls();
        ok(c.joinOnly(w1, false), "join again");
        ok(c.joinOnly(cp2, true), "join again");
        assert.deepStrictEqual(sb.calls().filter((x) => x.startsWith("kubeadm")), [], "joined nodes are left alone");
    });

    it("a worker whose join stopped after writing kubelet.conf is reset and joined again", () => {
        const c = new Cluster(sb, false);
        ok(c.init(), "init");
        const w1 = c.node("prod-worker-1", 20);
        ok(c.lifecycle("admit", w1, false), "admit");
        assert.notStrictEqual(c.joinOnly(w1, false, { FAKE_KUBEADM_FAIL_AT: "kubelet-start/annotate" }).status, 0);
        assert.ok(fs.existsSync(path.join(sb.rootOf("prod-worker-1"), "etc/kubernetes/kubelet.conf")));
        sb.clearCalls();
        const again = c.joinOnly(w1, false);
        ok(again, "join again");
        assert.match(again.stderr, /kubeadm join stopped halfway \(node prod-worker-1 is not registered by kubeadm\); undoing it/);
        assert.deepStrictEqual(sb.calls().filter((x) => x.startsWith("kubeadm")).map((x) => x.split(" ").slice(0, 2).join(" ")), ["kubeadm reset", "kubeadm join"]);
        assert.ok(sb.cluster().nodes["prod-worker-1"].metadata.annotations["kubeadm.alpha.kubernetes.io/cri-socket"]);
    });

    it("a control plane whose join timed out waiting for its etcd member is undone, member included, and joined again", () => {
        const c = new Cluster(sb, true);
        ok(c.init(), "init");
        const cp2 = c.node("prod-cp-2", 11);
        ok(c.lifecycle("admit", cp2, true), "admit");
        assert.notStrictEqual(c.joinOnly(cp2, true, { FAKE_KUBEADM_FAIL_AT: "control-plane-join/etcd" }).status, 0);
        assert.deepStrictEqual(c.members().sort(), ["prod-cp-1", "prod-cp-2"], "etcd has cp-2's member");
        assert.ok(!("prod-cp-2" in sb.cluster().configMaps["kube-system/kubeadm-config"].clusterStatus), "but the join never recorded it: kubeadm reset cannot find it");
        const again = c.joinOnly(cp2, true);
        ok(again, "join again");
        assert.match(again.stderr, /removing its etcd member [0-9a-f]+ left by the half-join/);
        assert.deepStrictEqual(c.members().sort(), ["prod-cp-1", "prod-cp-2"]);
        ok(sb.etcdctl("prod-cp-1", "endpoint", "health", "--cluster"), "every member healthy");
    });

    it("the kubeconfig script prints the admin kubeconfig", () => {
        const root = sb.rootOf("prod-cp-1");
        fs.mkdirSync(path.join(root, "etc/kubernetes"), { recursive: true });
        fs.writeFileSync(path.join(root, "etc/kubernetes/admin.conf"), "apiVersion: v1\nkind: Config\n");
        const r = sb.runOn("prod-cp-1", renderKubeconfigScript({ root }));
        ok(r, "kubeconfig");
        assert.strictEqual(r.stdout, "apiVersion: v1\nkind: Config\n");
    });
});

describe("kubernetes: removing nodes in kubeadm's order, against a real etcd", function () {
    this.timeout(180000);
    let sb: Sandbox;
    before(function () {
        requireOrSkip(this, etcdMissing());
    });
    beforeEach(() => (sb = sandbox()));
    afterEach(() => sb.cleanup());

    it("removing cp-3, then cp-2 leaves cp-1's etcd with one healthy member that accepts writes", () => {
        const c = new Cluster(sb, true);
        ok(c.init(), "init");
        c.applyCni();
        const [cp2, cp3] = [c.node("prod-cp-2", 11), c.node("prod-cp-3", 12)];
        c.join(cp2, true);
        c.join(cp3, true);
        assert.deepStrictEqual(c.members().sort(), ["prod-cp-1", "prod-cp-2", "prod-cp-3"]);
        for (const cp of [cp3, cp2]) {
            const [drain, reset, forget] = c.remove(cp, true);
            ok(drain, `drain ${cp.name}`);
            ok(reset, `reset ${cp.name}`);
            ok(forget, `forget ${cp.name}`);
            assert.doesNotMatch(forget.stdout, /kubeadm reset did not remove it/, "kubeadm reset removed the member itself: the Node still existed");
        }
        assert.deepStrictEqual(c.members(), ["prod-cp-1"]);
        ok(sb.etcdctl("prod-cp-1", "put", "oslo-mesh-quorum", "ok"), "etcd has quorum");
        assert.deepStrictEqual(Object.keys(sb.cluster().nodes), ["prod-cp-1"]);
        // A second removal run finds nothing to do.
        for (const r of c.remove(cp2, true)) ok(r, "remove again");
    });

    it("kubeadm reset after the Node is gone leaves the etcd member (kubeadm 1.15 reads its config from the Node); forget finds and removes it", () => {
        const c = new Cluster(sb, true);
        ok(c.init(), "init");
        c.applyCni();
        const [cp2, cp3] = [c.node("prod-cp-2", 11), c.node("prod-cp-3", 12)];
        c.join(cp2, true);
        c.join(cp3, true);
        // The old order: drain, delete the Node, then reset.
        ok(c.lifecycle("drain", cp3, true), "drain");
        sb.editCluster((s) => delete s.nodes["prod-cp-3"]);
        ok(sb.runOn("prod-cp-3", renderResetScript("prod-cp-3", { root: sb.rootOf("prod-cp-3") })), "reset");
        assert.match(fs.readFileSync(path.join(sb.rootOf("prod-cp-3"), "var/log/oslo-mesh/kubeadm-reset.log"), "utf8"), /Unable to fetch the kubeadm-config ConfigMap from cluster: failed to get node registration: failed to get corresponding node: nodes "prod-cp-3" not found/);
        assert.deepStrictEqual(c.members().sort(), ["prod-cp-1", "prod-cp-2", "prod-cp-3"], "a dead member is left: losing one more node costs etcd its quorum");
        const forget = c.lifecycle("forget", cp3, true);
        ok(forget, "forget");
        assert.match(forget.stdout, /still in etcd's member list .* kubeadm reset did not remove it; removing it/);
        assert.match(forget.stdout, /not in etcd's member list; 2 member\(s\) left, healthy/);
        assert.deepStrictEqual(c.members().sort(), ["prod-cp-1", "prod-cp-2"]);
    });

    it("a drain that Istio's disruption budgets block fails, naming the pods and the budgets", () => {
        const c = new Cluster(sb, false);
        ok(c.init(), "init");
        c.applyCni();
        const w2 = c.node("prod-worker-2", 21);
        c.join(w2, false);
        sb.editCluster((s) => {
            const pod = (ns: string, name: string, app: string, owner: string) => ({ kind: "Pod", metadata: { namespace: ns, name, labels: { app }, ownerReferences: [{ kind: owner }] }, spec: { nodeName: "prod-worker-2" } });
            s.pods.push(pod("istio-system", "istio-pilot-7f9c6d4b8-2xkqz", "pilot", "ReplicaSet"), pod("istio-system", "istio-ingressgateway-5d8b9c7f6-kq4rl", "istio-ingressgateway", "ReplicaSet"));
            s.pods.push(pod("bookinfo", "ratings-v1-6c9dbf6b45-8mjtz", "ratings", "ReplicaSet"), pod("kube-system", "calico-node-x9v2b", "calico-node", "DaemonSet"));
            // Istio 1.3.3's defaultPodDisruptionBudget: minAvailable 1 for single-replica deployments.
            const pdb = (name: string, app: string) => ({ kind: "PodDisruptionBudget", metadata: { namespace: "istio-system", name }, spec: { minAvailable: 1, selector: { matchLabels: { app } } }, status: {} });
            s.pdbs = { "istio-system/istio-pilot": pdb("istio-pilot", "pilot"), "istio-system/istio-ingressgateway": pdb("istio-ingressgateway", "istio-ingressgateway") };
        });
        const drain = c.lifecycle("drain", w2, false);
        assert.notStrictEqual(drain.status, 0);
        assert.match(drain.stderr, /node prod-worker-2 could not be drained within 300s: PodDisruptionBudgets refuse to evict these pods:\n {2}pod istio-system\/istio-ingressgateway-5d8b9c7f6-kq4rl\n {2}pod istio-system\/istio-pilot-7f9c6d4b8-2xkqz\n/);
        assert.match(drain.stderr, /blocking PodDisruptionBudgets \(no disruption allowed now\):\n {2}poddisruptionbudget istio-system\/istio-ingressgateway \(minAvailable 1\)\n {2}poddisruptionbudget istio-system\/istio-pilot \(minAvailable 1\)\n/);
        assert.ok(!drain.stderr.includes("ratings"), "evicted pods are not named");
        assert.ok(sb.cluster().nodes["prod-worker-2"].spec.unschedulable, "the node stays cordoned");
    });

    it("waiting for a node: registered is not enough, it must be Ready, and it comes back schedulable", () => {
        const c = new Cluster(sb, false);
        ok(c.init(), "init");
        const w1 = c.node("prod-worker-1", 20);
        ok(c.lifecycle("admit", w1, false), "admit");
        ok(c.joinOnly(w1, false), "join");
        const notReady = c.lifecycle("wait", w1, false);
        assert.notStrictEqual(notReady.status, 0);
        assert.match(notReady.stderr, /node prod-worker-1 registered but is not Ready after 0s/);
        c.applyCni();
        sb.editCluster((s) => (s.nodes["prod-worker-1"].spec.unschedulable = true));
        ok(c.lifecycle("wait", w1, false), "wait");
        assert.strictEqual(sb.cluster().nodes["prod-worker-1"].spec.unschedulable, false);
    });
});
