// The kubeadm scripts, executed: in a sandbox root, with fake system commands on PATH
// (test/fixtures/fakebin) and a file:// mirror for the downloads.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as jsyaml from "js-yaml";
import {
    ClusterShape,
    renderCniScript,
    renderFirewallScript,
    renderInitConfig,
    renderInitScript,
    renderJoinConfig,
    renderJoinScript,
    renderLifecycleScript,
    renderPrepareScript,
    renderResetScript,
    secretsStdin,
    joinStdin,
    renderAdmitConfig,
    renderKubeconfigScript,
    KubernetesConfig,
} from "../components/kubernetes/render";
import { parsedConfig, stackFileConfig } from "./harness";

const FAKEBIN = path.join(__dirname, "fixtures", "fakebin");
const TOKEN = "abcdef.0123456789abcdef";
const CERT_KEY = "a".repeat(64);

interface Sandbox {
    dir: string;
    root: string;
    mirror: string;
    calls(): string[];
    clearCalls(): void;
    run(script: string, stdin?: string, env?: Record<string, string>): { status: number | null; stdout: string; stderr: string };
}

function sandbox(): Sandbox {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-node-"));
    const root = path.join(dir, "root");
    for (const d of ["etc", "sys/fs/cgroup", "var/log"]) fs.mkdirSync(path.join(root, d), { recursive: true });
    fs.writeFileSync(path.join(root, "etc/fstab"), "UUID=1 / ext4 defaults 0 1\n/swap.img none swap sw 0 0\n");
    const log = path.join(dir, "calls.log");
    fs.writeFileSync(log, "");
    return {
        dir,
        root,
        mirror: path.join(dir, "mirror"),
        calls: () => fs.readFileSync(log, "utf8").split("\n").filter(Boolean),
        clearCalls: () => fs.writeFileSync(log, ""),
        run(script, stdin = "", env = {}) {
            const file = path.join(dir, `script-${crypto.randomUUID()}.sh`);
            fs.writeFileSync(file, script);
            const r = spawnSync("bash", [file], {
                input: stdin,
                encoding: "utf8",
                env: { PATH: `${FAKEBIN}:${process.env.PATH}`, SANDBOX: dir, HOME: dir, ...env },
            });
            return { status: r.status, stdout: r.stdout, stderr: r.stderr };
        },
    };
}

/** A file:// mirror laid out like dl.k8s.io and GitHub releases, with published checksums. */
function buildMirror(sb: Sandbox, k: KubernetesConfig): void {
    const put = (rel: string, content: Buffer | string, sum: "sha512" | "sha256" | null) => {
        const file = path.join(sb.mirror, rel);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, content);
        if (sum) fs.writeFileSync(`${file}.${sum}`, `${crypto.createHash(sum).update(content).digest("hex")}  ${path.basename(file)}\n`);
    };
    for (const bin of ["kubeadm", "kubelet", "kubectl"]) put(`release/v${k.version}/bin/linux/amd64/${bin}`, `#!/bin/sh\necho ${bin} v${k.version}\n`, "sha512");
    const tgz = (files: string[]) => {
        const src = fs.mkdtempSync(path.join(sb.dir, "tar-"));
        for (const f of files) fs.writeFileSync(path.join(src, f), `#!/bin/sh\necho ${f}\n`, { mode: 0o755 });
        return spawnSync("tar", ["-czf", "-", "-C", src, ...files]).stdout;
    };
    put(`kubernetes-sigs/cri-tools/releases/download/v${k.crictlVersion}/crictl-v${k.crictlVersion}-linux-amd64.tar.gz`, tgz(["crictl"]), "sha512");
    // cri-tools before v1.23.0 published no checksum file (its sha256 is in the release notes).
    put("kubernetes-sigs/cri-tools/releases/download/v1.15.0/crictl-v1.15.0-linux-amd64.tar.gz", tgz(["crictl"]), null);
    put(`containernetworking/plugins/releases/download/v${k.cniPluginsVersion}/cni-plugins-amd64-v${k.cniPluginsVersion}.tgz`, tgz(["bridge", "loopback", "portmap"]), "sha512");
}

function kubeConfig(sb: Sandbox): KubernetesConfig {
    const k = parsedConfig("prod", stackFileConfig("prod")).kubernetes;
    return { ...k, downloadBaseUrl: `file://${sb.mirror}`, githubBaseUrl: `file://${sb.mirror}` };
}

describe("kubernetes: node preparation, executed in a sandbox", () => {
    let sb: Sandbox;
    let k: KubernetesConfig;
    beforeEach(() => {
        sb = sandbox();
        k = kubeConfig(sb);
        buildMirror(sb, k);
    });
    afterEach(() => fs.rmSync(sb.dir, { recursive: true, force: true }));

    it("installs the verified tools, runtime, modules, sysctls and kubelet unit, and a second run changes nothing", () => {
        const script = renderPrepareScript("prod-worker-1", k, { root: sb.root });
        const first = sb.run(script);
        assert.strictEqual(first.status, 0, first.stderr);
        for (const bin of ["kubeadm", "kubelet", "kubectl", "crictl"]) {
            const file = path.join(sb.root, "usr/local/bin", bin);
            assert.ok(fs.statSync(file).mode & 0o100, `${bin} is installed and executable`);
        }
        assert.match(fs.readFileSync(path.join(sb.root, "usr/local/bin/kubeadm"), "utf8"), /kubeadm v1\.15\.12/);
        assert.deepStrictEqual(fs.readdirSync(path.join(sb.root, "opt/cni/bin")).sort(), ["bridge", "loopback", "portmap"]);
        assert.match(fs.readFileSync(path.join(sb.root, "etc/fstab"), "utf8"), /^# \/swap\.img none swap sw 0 0$/m);
        assert.match(fs.readFileSync(path.join(sb.root, "etc/sysctl.d/99-oslo-mesh-k8s.conf"), "utf8"), /net\.bridge\.bridge-nf-call-iptables = 1/);
        assert.match(fs.readFileSync(path.join(sb.root, "etc/systemd/system/kubelet.service.d/10-kubeadm.conf"), "utf8"), /ExecStart=\/usr\/local\/bin\/kubelet \$KUBELET_KUBECONFIG_ARGS/);
        const calls = sb.calls();
        assert.ok(calls.includes("swapoff -a"));
        assert.ok(calls.includes("modprobe br_netfilter"));
        assert.ok(calls.some((c) => c.startsWith("apt-get install") && c.includes("containerd=1.3.3-0ubuntu2") && c.includes("socat")), calls.join("\n"));
        assert.ok(calls.includes("systemctl enable kubelet"));

        sb.clearCalls();
        const fstab = fs.readFileSync(path.join(sb.root, "etc/fstab"), "utf8");
        const second = sb.run(script);
        assert.strictEqual(second.status, 0, second.stderr);
        assert.match(second.stdout, /installing 0 verified download\(s\)/);
        const again = sb.calls();
        for (const change of ["apt-get", "sysctl --system", "systemctl daemon-reload", "systemctl restart"]) {
            assert.ok(!again.some((c) => c.startsWith(change)), `the second run does not run ${change}: ${again.join("; ")}`);
        }
        assert.strictEqual(fs.readFileSync(path.join(sb.root, "etc/fstab"), "utf8"), fstab);
    });

    it("a checksum mismatch aborts before anything is installed", () => {
        fs.appendFileSync(path.join(sb.mirror, `release/v${k.version}/bin/linux/amd64/kubelet`), "tampered\n");
        const r = sb.run(renderPrepareScript("prod-worker-1", k, { root: sb.root }));
        assert.notStrictEqual(r.status, 0);
        assert.match(r.stderr, /checksum mismatch for file:\/\/.*\/kubelet: expected [a-f0-9]{128}, got [a-f0-9]{128}; nothing was installed/);
        assert.ok(!fs.existsSync(path.join(sb.root, "usr/local/bin")), "not even the verified kubeadm was installed");
        assert.ok(!fs.existsSync(path.join(sb.root, "opt/cni/bin")));
    });

    it("verifies crictl against a pinned sha256 where its release publishes no checksum file", () => {
        const old = { ...k, crictlVersion: "1.15.0" };
        const sum = crypto.createHash("sha256").update(fs.readFileSync(path.join(sb.mirror, "kubernetes-sigs/cri-tools/releases/download/v1.15.0/crictl-v1.15.0-linux-amd64.tar.gz"))).digest("hex");
        const unpinned = sb.run(renderPrepareScript("prod-worker-1", old, { root: sb.root }));
        assert.notStrictEqual(unpinned.status, 0);
        assert.match(unpinned.stderr, /no published checksum at file:\/\/\S+crictl-v1\.15\.0-linux-amd64\.tar\.gz\.sha512; pin it in the stack config \(e\.g\. kubernetes\.crictlSha256\); nothing was installed/);
        assert.ok(!fs.existsSync(path.join(sb.root, "usr/local/bin")));
        const wrong = sb.run(renderPrepareScript("prod-worker-1", { ...old, crictlSha256: "0".repeat(64) }, { root: sb.root }));
        assert.match(wrong.stderr, /checksum mismatch for \S+crictl\S+: expected 0{64}/);
        assert.ok(!fs.existsSync(path.join(sb.root, "usr/local/bin")));
        const pinned = sb.run(renderPrepareScript("prod-worker-1", { ...old, crictlSha256: sum }, { root: sb.root }));
        assert.strictEqual(pinned.status, 0, pinned.stderr);
        assert.ok(fs.existsSync(path.join(sb.root, "usr/local/bin/crictl")));
    });

    it("refuses a node that booted with cgroup v2", () => {
        const r = sb.run(renderPrepareScript("prod-worker-1", k, { root: sb.root }), "", { FAKE_CGROUP_FS: "cgroup2fs" });
        assert.notStrictEqual(r.status, 0);
        assert.match(r.stderr, /booted with cgroup v2; kubelet 1\.15\.12 needs cgroup v1/);
        assert.ok(!sb.calls().some((c) => c.startsWith("apt-get")));
    });
});

describe("kubernetes: kubeadm init and join, executed in a sandbox", () => {
    let sb: Sandbox;
    let shape: ClusterShape;
    beforeEach(() => {
        sb = sandbox();
        const k = kubeConfig(sb);
        shape = { k, clusterName: "oslo-mesh-prod", endpoint: k.controlPlaneEndpoint!, ha: true };
    });
    afterEach(() => fs.rmSync(sb.dir, { recursive: true, force: true }));

    const initScript = () => renderInitScript("prod-cp-1", shape.k, renderInitConfig(shape, { name: "prod-cp-1", ip: "203.0.113.10" }, ["203.0.113.10"]), true, { root: sb.root });

    it("init runs kubeadm once with the config and upload-certs, and prints the CA hash", () => {
        const r = sb.run(initScript(), secretsStdin(TOKEN, CERT_KEY));
        assert.strictEqual(r.status, 0, r.stderr);
        const config = path.join(sb.root, "etc/kubernetes/oslo-mesh/kubeadm-init.yaml");
        assert.deepStrictEqual(sb.calls().filter((c) => c.startsWith("kubeadm")), [`kubeadm init --config ${config} --skip-token-print --upload-certs`]);
        assert.strictEqual(fs.statSync(config).mode & 0o777, 0o600);
        const [init, cluster] = jsyaml.loadAll(fs.readFileSync(config, "utf8")) as Array<Record<string, any>>;
        assert.strictEqual(init.apiVersion, "kubeadm.k8s.io/v1beta2");
        assert.strictEqual(init.bootstrapTokens[0].token, TOKEN);
        assert.strictEqual(init.certificateKey, CERT_KEY);
        assert.strictEqual(cluster.controlPlaneEndpoint, "api.prod.oslo-mesh.example:6443");
        assert.deepStrictEqual(cluster.networking, { podSubnet: "10.244.0.0/16", serviceSubnet: "10.96.0.0/12", dnsDomain: "cluster.local" });
        // The hash kubeadm prints: sha256 over the CA's DER public key.
        const der = crypto.createPublicKey(fs.readFileSync(path.join(sb.root, "etc/kubernetes/pki/ca.crt"))).export({ type: "spki", format: "der" });
        assert.strictEqual(r.stdout.trim(), `caCertHash=sha256:${crypto.createHash("sha256").update(der).digest("hex")}`);
        for (const out of [r.stdout, r.stderr, sb.calls().join("\n")]) {
            assert.ok(!out.includes(TOKEN) && !out.includes(CERT_KEY) && !out.includes("would-be-printed"), "no secret in the output or on a command line");
        }

        sb.clearCalls();
        const again = sb.run(initScript(), secretsStdin(TOKEN, CERT_KEY));
        assert.strictEqual(again.status, 0, again.stderr);
        assert.match(again.stderr, /already initialised/);
        assert.deepStrictEqual(sb.calls().filter((c) => c.startsWith("kubeadm")), []);
        assert.strictEqual(again.stdout, r.stdout);
    });

    it("init refuses to run without valid secrets on standard input", () => {
        const r = sb.run(initScript(), "token=short\n");
        assert.notStrictEqual(r.status, 0);
        assert.match(r.stderr, /no valid bootstrap token on standard input/);
        assert.deepStrictEqual(sb.calls(), []);
    });

    it("a worker joins once with a config that pins the CA hash and holds no control-plane section", () => {
        const hash = `sha256:${"b".repeat(64)}`;
        const script = renderJoinScript("prod-worker-1", renderJoinConfig(shape, { name: "prod-worker-1", ip: "203.0.113.20" }, false), false, { root: sb.root });
        const stdin = joinStdin(secretsStdin(TOKEN, CERT_KEY), hash);
        const r = sb.run(script, stdin);
        assert.strictEqual(r.status, 0, r.stderr);
        const config = path.join(sb.root, "etc/kubernetes/oslo-mesh/kubeadm-join.yaml");
        assert.deepStrictEqual(sb.calls(), [`kubeadm join --config ${config}`]);
        const join = jsyaml.load(fs.readFileSync(config, "utf8")) as Record<string, any>;
        assert.deepStrictEqual(join.discovery.bootstrapToken, { apiServerEndpoint: "api.prod.oslo-mesh.example:6443", token: TOKEN, caCertHashes: [hash] });
        assert.strictEqual(join.controlPlane, undefined);
        assert.strictEqual(join.nodeRegistration.kubeletExtraArgs["node-ip"], "203.0.113.20");
        sb.clearCalls();
        assert.strictEqual(sb.run(script, stdin).status, 0);
        assert.deepStrictEqual(sb.calls(), [], "a joined node is left alone");
    });

    it("a further control plane joins with its certificate key in the config", () => {
        const script = renderJoinScript("prod-cp-2", renderJoinConfig(shape, { name: "prod-cp-2", ip: "203.0.113.11" }, true), true, { root: sb.root });
        const hash = `sha256:${"c".repeat(64)}`;
        assert.notStrictEqual(sb.run(script, joinStdin(`token=${TOKEN}\n`, hash)).status, 0, "not without the certificate key");
        assert.notStrictEqual(sb.run(script, secretsStdin(TOKEN, CERT_KEY)).status, 0, "not without the CA hash");
        const r = sb.run(script, joinStdin(secretsStdin(TOKEN, CERT_KEY), hash));
        assert.strictEqual(r.status, 0, r.stderr);
        const join = jsyaml.load(fs.readFileSync(path.join(sb.root, "etc/kubernetes/oslo-mesh/kubeadm-join.yaml"), "utf8")) as Record<string, any>;
        assert.deepStrictEqual(join.controlPlane, { localAPIEndpoint: { advertiseAddress: "203.0.113.11", bindPort: 6443 }, certificateKey: CERT_KEY });
    });

    it("admitting a node recreates an expired bootstrap token and re-uploads the certificates, and only when needed", () => {
        const admit = renderLifecycleScript("admit", "prod-cp-2", { admitConfig: renderAdmitConfig(shape), controlPlane: true, root: sb.root });
        assert.strictEqual(sb.run(admit, secretsStdin(TOKEN, CERT_KEY)).status, 0);
        const first = sb.calls().filter((c) => c.startsWith("kubeadm"));
        assert.strictEqual(first.length, 3, first.join("\n"));
        assert.match(first[1], /^kubeadm token create --config \S+ --kubeconfig \S+\/etc\/kubernetes\/admin\.conf$/);
        assert.match(first[2], /^kubeadm init phase upload-certs --upload-certs --config \S+$/);
        assert.ok(!sb.calls().join("\n").includes(TOKEN) && !sb.calls().join("\n").includes(CERT_KEY), "secrets stay off command lines");
        sb.clearCalls();
        assert.strictEqual(sb.run(admit, secretsStdin(TOKEN, CERT_KEY)).status, 0);
        assert.ok(!sb.calls().some((c) => c.startsWith("kubeadm token create")), "an existing token is left alone");
        const worker = renderLifecycleScript("admit", "prod-worker-1", { admitConfig: renderAdmitConfig(shape), controlPlane: false, root: sb.root });
        sb.clearCalls();
        assert.strictEqual(sb.run(worker, secretsStdin(TOKEN, CERT_KEY)).status, 0);
        assert.ok(!sb.calls().some((c) => c.includes("upload-certs")), "a worker needs no certificates");
    });

    it("the kubeconfig script prints the admin kubeconfig", () => {
        fs.mkdirSync(path.join(sb.root, "etc/kubernetes"), { recursive: true });
        fs.writeFileSync(path.join(sb.root, "etc/kubernetes/admin.conf"), "apiVersion: v1\nkind: Config\n");
        const r = sb.run(renderKubeconfigScript({ root: sb.root }));
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(r.stdout, "apiVersion: v1\nkind: Config\n");
    });

    it("removing a node drains and deletes it from the cluster, then kubeadm reset runs on it; both repeat safely", () => {
        fs.mkdirSync(path.join(sb.dir, "state"), { recursive: true });
        fs.writeFileSync(path.join(sb.dir, "state/node-registered"), "");
        fs.mkdirSync(path.join(sb.root, "etc/kubernetes"), { recursive: true });
        fs.writeFileSync(path.join(sb.root, "etc/kubernetes/kubelet.conf"), "");
        const remove = renderLifecycleScript("remove", "prod-worker-2", { root: sb.root });
        const reset = renderResetScript("prod-worker-2", { root: sb.root });
        for (let i = 0; i < 2; i++) {
            assert.strictEqual(sb.run(remove).status, 0);
            assert.strictEqual(sb.run(reset).status, 0);
        }
        const calls = sb.calls().map((c) => c.replace(/--kubeconfig \S+ /, ""));
        assert.deepStrictEqual(calls.filter((c) => /drain|delete node|reset/.test(c)), [
            "kubectl drain prod-worker-2 --ignore-daemonsets --delete-local-data --force --timeout=300s",
            "kubectl delete node prod-worker-2",
            "kubeadm reset --force",
        ]);
    });
});

describe("kubernetes: host firewall and CNI, executed in a sandbox", () => {
    let sb: Sandbox;
    beforeEach(() => (sb = sandbox()));
    afterEach(() => fs.rmSync(sb.dir, { recursive: true, force: true }));

    it("a worker admits SSH only from the admin CIDRs and kubelet only from the cluster; re-running rebuilds the same rules", () => {
        const script = renderFirewallScript("prod-worker-1", "worker", { adminCidrs: ["198.51.100.0/24"], clusterCidrs: ["203.0.113.0/24"], podCidr: "10.244.0.0/16", apiPort: 6443, publicPorts: ["30000:32767"], root: sb.root });
        assert.strictEqual(sb.run(script).status, 0);
        const first = sb.calls().filter((c) => c.startsWith("iptables"));
        assert.ok(first.includes("iptables -A OSLO-MESH-INPUT -p tcp -s 198.51.100.0/24 --dport 22 -j RETURN"));
        assert.ok(first.includes("iptables -A OSLO-MESH-INPUT -p tcp -s 203.0.113.0/24 --dport 10250 -j RETURN"));
        assert.ok(!first.some((c) => c.includes("--dport 6443")), "no API server on a worker");
        assert.ok(first.includes("iptables -A OSLO-MESH-INPUT -p tcp --dport 30000:32767 -j RETURN"), "the NodePorts are open to all");
        assert.ok(!first.some((c) => c.includes("--dport 22") && !c.includes("198.51.100.0/24")), "SSH from nowhere else");
        assert.strictEqual(first.filter((c) => c.includes(" -A ")).pop(), "iptables -A OSLO-MESH-INPUT -j DROP", "everything else is dropped, last");
        assert.ok(fs.existsSync(path.join(sb.root, "etc/systemd/system/oslo-mesh-firewall.service")));
        assert.ok(fs.existsSync(path.join(sb.root, "usr/local/sbin/oslo-mesh-firewall")));
        sb.clearCalls();
        assert.strictEqual(sb.run(script).status, 0);
        const second = sb.calls().filter((c) => c.startsWith("iptables"));
        assert.deepStrictEqual(second.filter((c) => c.includes(" -A ")), first.filter((c) => c.includes(" -A ")));
        assert.ok(second.includes("iptables -F OSLO-MESH-INPUT"), "the chain is rebuilt from scratch");
        assert.ok(!second.some((c) => c.startsWith("iptables -I INPUT")), "the jump from INPUT is inserted once");
        assert.ok(!sb.calls().includes("systemctl daemon-reload"), "the unit is unchanged");
    });

    it("a control plane also admits the API server from the admin CIDRs and etcd from the cluster", () => {
        const script = renderFirewallScript("prod-cp-1", "control-plane", { adminCidrs: ["198.51.100.0/24"], clusterCidrs: ["203.0.113.0/24"], podCidr: "10.244.0.0/16", apiPort: 6443, publicPorts: ["80", "443"], root: sb.root });
        assert.strictEqual(sb.run(script).status, 0);
        const calls = sb.calls();
        assert.ok(calls.includes("iptables -A OSLO-MESH-INPUT -p tcp -s 198.51.100.0/24 --dport 6443 -j RETURN"));
        assert.ok(calls.includes("iptables -A OSLO-MESH-INPUT -p tcp -s 203.0.113.0/24 --dport 2379:2380 -j RETURN"));
        assert.ok(!calls.some((c) => c.includes("198.51.100.0/24 --dport 2379")), "etcd is not open to admins");
        assert.ok(calls.includes("iptables -A OSLO-MESH-INPUT -p tcp --dport 443 -j RETURN") && !calls.some((c) => c.includes("30000:32767")), "ExternalIPs exposure opens 80 and 443, not the NodePorts");
    });

    it("the CNI manifest is applied with the pod CIDR only when its checksum matches", () => {
        // The commented-out form of later Calico manifests; the v3.10 form is the next test.
        const manifest = 'kind: DaemonSet\n            # - name: CALICO_IPV4POOL_CIDR\n            #   value: "192.168.0.0/16"\n';
        fs.writeFileSync(path.join(sb.dir, "calico.yaml"), manifest);
        const k = parsedConfig("prod", stackFileConfig("prod")).kubernetes;
        const withSum = (sha: string) => renderCniScript({ ...k, cni: { manifestUrl: `file://${sb.dir}/calico.yaml`, manifestSha256: sha } }, { root: sb.root });
        const bad = sb.run(withSum("0".repeat(64)));
        assert.notStrictEqual(bad.status, 0);
        assert.match(bad.stderr, /checksum mismatch .* nothing was applied/);
        assert.ok(!sb.calls().some((c) => c.startsWith("kubectl")));
        // The script applies a temporary file; a fake kubectl that copies it shows what was applied.
        const good = sb.run(withSum(crypto.createHash("sha256").update(manifest).digest("hex")).replace("kubectl --kubeconfig", `cp "\${work}/calico.yaml" "${sb.dir}/applied.yaml"; kubectl --kubeconfig`));
        assert.strictEqual(good.status, 0, good.stderr);
        assert.match(fs.readFileSync(path.join(sb.dir, "applied.yaml"), "utf8"), /^ {12}- name: CALICO_IPV4POOL_CIDR\n {14}value: "10\.244\.0\.0\/16"$/m);
        assert.ok(sb.calls().some((c) => c.startsWith("kubectl") && c.includes(" apply -f ")));
    });

    it("Calico v3.10's manifest, whose pool is set, gets the pod CIDR at the same indentation", () => {
        // _includes/v3.10/charts/calico/templates/calico-node.yaml at projectcalico/calico v3.10.4
        const manifest = "          env:\n            - name: CALICO_IPV4POOL_CIDR\n              value: \"192.168.0.0/16\"\n            - name: CALICO_DISABLE_FILE_LOGGING\n              value: \"true\"\n";
        fs.writeFileSync(path.join(sb.dir, "calico.yaml"), manifest);
        const k = parsedConfig("prod", stackFileConfig("prod")).kubernetes;
        const script = renderCniScript({ ...k, cni: { manifestUrl: `file://${sb.dir}/calico.yaml` } }, { root: sb.root });
        const r = sb.run(script.replace("kubectl --kubeconfig", `cp "\${work}/calico.yaml" "${sb.dir}/applied.yaml"; kubectl --kubeconfig`));
        assert.strictEqual(r.status, 0, r.stderr);
        assert.match(r.stderr, /warning: no sha256 configured .* applying it unverified/);
        const applied = jsyaml.load(fs.readFileSync(path.join(sb.dir, "applied.yaml"), "utf8")) as Record<string, any>;
        assert.deepStrictEqual(applied.env, [{ name: "CALICO_IPV4POOL_CIDR", value: "10.244.0.0/16" }, { name: "CALICO_DISABLE_FILE_LOGGING", value: "true" }]);
    });
});
