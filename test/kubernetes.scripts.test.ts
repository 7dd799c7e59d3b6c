// The node-level kubeadm scripts, executed: node preparation, the host firewall and the CNI, in a
// sandbox root with fake system commands on PATH (test/fixtures/fakebin) and a file:// mirror.
// The kubeadm lifecycle (init, join, removal) is in kubernetes.lifecycle.test.ts.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as jsyaml from "js-yaml";
import { KubernetesConfig, renderCniScript, renderFirewallScript, renderPrepareScript } from "../components/kubernetes/render";
import { bashCommand } from "../components/shared/script";
import { grubCmdlineFragment, renderCloudInit } from "../components/vps/render";
import { parsedConfig, stackFileConfig, TEST_PUBLIC_KEY } from "./harness";
import { Sandbox, buildMirror, kubeConfig, sandbox } from "./kubernetes.sandbox";

describe("kubernetes: node preparation, executed in a sandbox", () => {
    let sb: Sandbox;
    let k: KubernetesConfig;
    beforeEach(() => {
        sb = sandbox();
        k = kubeConfig(sb);
        buildMirror(sb, k);
    });
    afterEach(() => sb.cleanup());

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
        assert.ok(calls.some((c) => c.startsWith("apt-get") && c.includes(" install ") && c.includes("containerd=1.3.3-0ubuntu2") && c.includes("socat")), calls.join("\n"));
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

    it("waits for apt's locks while first-boot unattended-upgrades holds them", () => {
        // apt-get update finds the lists lock held once; apt-get install finds the dpkg frontend lock held twice.
        fs.mkdirSync(path.join(sb.dir, "state"), { recursive: true });
        fs.writeFileSync(path.join(sb.dir, "state/lists-locked"), "1");
        fs.writeFileSync(path.join(sb.dir, "state/dpkg-locked"), "2");
        const r = sb.run(renderPrepareScript("prod-worker-1", k, { root: sb.root }));
        assert.strictEqual(r.status, 0, r.stderr);
        const apt = sb.calls().filter((c) => c.startsWith("apt-get"));
        assert.deepStrictEqual(apt.map((c) => c.split(" ").find((w) => w === "update" || w === "install")), ["update", "update", "install"], "update is tried again once the lists lock is free");
        assert.match(apt[2], /^apt-get -o DPkg::Lock::Timeout=900 install /, "install waits for the dpkg lock itself");
        assert.ok(sb.calls().includes("apt-mark hold containerd"));
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

    it("containerd's sandbox (pause) image comes from the configured registry, registry.k8s.io by default", () => {
        assert.strictEqual(sb.run(renderPrepareScript("prod-worker-1", { ...k, imageRepository: "mirror.example.no:5000/k8s" }, { root: sb.root })).status, 0);
        assert.match(fs.readFileSync(path.join(sb.root, "etc/containerd/config.toml"), "utf8"), /^ {2}sandbox_image = "mirror\.example\.no:5000\/k8s\/pause:3\.1"$/m);
        assert.strictEqual(parsedConfig("dev", stackFileConfig("dev")).kubernetes.imageRepository, "registry.k8s.io");
    });
});

describe("kubernetes: node preparation never races cloud-init's cgroup v1 reboot", () => {
    const seed = () =>
        renderCloudInit({
            node: { name: "dev-worker-1" },
            hypervisor: { name: "local", user: "root", port: 22, pool: "default", network: "default", nameservers: [] },
            sshUser: "ubuntu",
            sshPublicKey: TEST_PUBLIC_KEY,
            kernelArgs: ["systemd.unified_cgroup_hierarchy=0"],
        });

    it("the seed reboots from bootcmd, before cloud-init creates the users or SSH is set up, never from power_state after it reports done", () => {
        const userData = jsyaml.load(seed().userData.replace(/^#cloud-config\n/, "")) as Record<string, any>;
        assert.strictEqual(userData.power_state, undefined, "no reboot after `cloud-init status --wait` returns");
        assert.deepStrictEqual(userData.bootcmd[0].slice(0, 2), ["sh", "-c"]);
        assert.match(userData.bootcmd[0][2], /update-grub && touch \/var\/lib\/oslo-mesh\/cgroup-v1-reboot && reboot;/);
        const check = spawnSync("sh", ["-c", "command -v cloud-init"]);
        if (check.status === 0) {
            const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "seed-")), "user-data");
            fs.writeFileSync(file, seed().userData);
            const r = spawnSync("cloud-init", ["schema", "--config-file", file], { encoding: "utf8" });
            assert.strictEqual(r.status, 0, r.stdout + r.stderr);
        }
    });

    it("its bootcmd reboots a cgroup v2 boot once, into the kernel arguments, and leaves a cgroup v1 boot alone", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bootcmd-"));
        const bin = path.join(dir, "bin");
        fs.mkdirSync(bin);
        for (const cmd of ["update-grub", "reboot"]) fs.writeFileSync(path.join(bin, cmd), `#!/bin/sh\necho ${cmd} >>"${dir}/calls"\n`, { mode: 0o755 });
        const userData = jsyaml.load(seed().userData.replace(/^#cloud-config\n/, "")) as Record<string, any>;
        // The node's paths, moved into the sandbox.
        const command = (userData.bootcmd[0][2] as string).replace(/\/(sys|etc|var)\//g, `${dir}/$1/`);
        const boot = () => spawnSync("sh", ["-c", command], { encoding: "utf8", env: { PATH: `${bin}:${process.env.PATH}` } });
        fs.mkdirSync(path.join(dir, "sys/fs/cgroup"), { recursive: true });
        fs.writeFileSync(path.join(dir, "sys/fs/cgroup/cgroup.controllers"), "cpu io memory\n");
        assert.strictEqual(boot().status, 0);
        assert.strictEqual(fs.readFileSync(path.join(dir, "calls"), "utf8"), "update-grub\nreboot\n");
        assert.strictEqual(fs.readFileSync(path.join(dir, "etc/default/grub.d/90-oslo-mesh.cfg"), "utf8"), grubCmdlineFragment(["systemd.unified_cgroup_hierarchy=0"]), "the same fragment write_files writes");
        assert.strictEqual(boot().status, 0);
        assert.strictEqual(fs.readFileSync(path.join(dir, "calls"), "utf8"), "update-grub\nreboot\n", "at most one reboot, even if the arguments did not take");
        fs.rmSync(path.join(dir, "sys/fs/cgroup/cgroup.controllers"));
        fs.rmSync(path.join(dir, "var"), { recursive: true });
        assert.strictEqual(boot().status, 0);
        assert.strictEqual(fs.readFileSync(path.join(dir, "calls"), "utf8"), "update-grub\nreboot\n", "cgroup v1: no reboot");
    });
});

describe("kubernetes: host firewall, executed in a sandbox", () => {
    let sb: Sandbox;
    beforeEach(() => (sb = sandbox()));
    afterEach(() => sb.cleanup());
    const worker = () => renderFirewallScript("prod-worker-1", "worker", { adminCidrs: ["198.51.100.0/24", "192.0.2.7/32"], clusterCidrs: ["203.0.113.0/24"], podCidr: "10.244.0.0/16", apiPort: 6443, publicPorts: ["30000:32767"], root: sb.root });
    const rules = () => sb.calls().filter((c) => c.startsWith("iptables"));

    it("a worker admits SSH only from the admin CIDRs and kubelet only from the cluster; re-running rebuilds the same rules", () => {
        assert.strictEqual(sb.run(worker()).status, 0);
        const first = rules();
        assert.ok(first.includes("iptables -w -A OSLO-MESH-INPUT -p tcp -s 198.51.100.0/24 --dport 22 -j RETURN"));
        assert.ok(first.includes("iptables -w -A OSLO-MESH-INPUT -p tcp -s 203.0.113.0/24 --dport 10250 -j RETURN"));
        assert.ok(!first.some((c) => c.includes("--dport 6443")), "no API server on a worker");
        assert.ok(first.includes("iptables -w -A OSLO-MESH-INPUT -p tcp --dport 30000:32767 -j RETURN"), "the NodePorts are open to all");
        assert.ok(!first.some((c) => c.includes("--dport 22") && !c.includes("198.51.100.0/24") && !c.includes("192.0.2.7/32")), "SSH from nowhere else");
        assert.strictEqual(first.filter((c) => c.includes(" -A ")).pop(), "iptables -w -A OSLO-MESH-INPUT -j DROP", "everything else is dropped, last");
        assert.ok(fs.existsSync(path.join(sb.root, "usr/local/sbin/oslo-mesh-firewall")));
        sb.clearCalls();
        assert.strictEqual(sb.run(worker()).status, 0);
        const second = rules();
        assert.deepStrictEqual(second.filter((c) => c.includes(" -A ")), first.filter((c) => c.includes(" -A ")));
        assert.ok(second.includes("iptables -w -F OSLO-MESH-INPUT"), "the chain is rebuilt from scratch");
        assert.ok(!second.some((c) => c.startsWith("iptables -w -I INPUT")), "the jump from INPUT is inserted once");
        assert.ok(!sb.calls().includes("systemctl daemon-reload"), "the unit is unchanged");
    });

    it("every rule waits for the xtables lock that kube-proxy or Calico holds on a live node", () => {
        fs.mkdirSync(path.join(sb.dir, "state"), { recursive: true });
        fs.writeFileSync(path.join(sb.dir, "state/xtables-locked"), "");
        const r = sb.run(worker());
        assert.strictEqual(r.status, 0, r.stderr);
        assert.ok(rules().every((c) => c.startsWith("iptables -w ")), rules().join("\n"));
        const boot = spawnSync("bash", [path.join(sb.root, "usr/local/sbin/oslo-mesh-firewall"), "--apply"], { encoding: "utf8", env: { PATH: `${path.join(__dirname, "fixtures", "fakebin")}:${process.env.PATH}`, SANDBOX: sb.dir } });
        assert.strictEqual(boot.status, 0, boot.stderr);
    });

    it("a control plane also admits the API server from the admin CIDRs and etcd from the cluster", () => {
        const script = renderFirewallScript("prod-cp-1", "control-plane", { adminCidrs: ["198.51.100.0/24"], clusterCidrs: ["203.0.113.0/24"], podCidr: "10.244.0.0/16", apiPort: 6443, publicPorts: ["80", "443"], root: sb.root });
        assert.strictEqual(sb.run(script).status, 0);
        const calls = sb.calls();
        assert.ok(calls.includes("iptables -w -A OSLO-MESH-INPUT -p tcp -s 198.51.100.0/24 --dport 6443 -j RETURN"));
        assert.ok(calls.includes("iptables -w -A OSLO-MESH-INPUT -p tcp -s 203.0.113.0/24 --dport 2379:2380 -j RETURN"));
        assert.ok(!calls.some((c) => c.includes("198.51.100.0/24 --dport 2379")), "etcd is not open to admins");
        assert.ok(calls.includes("iptables -w -A OSLO-MESH-INPUT -p tcp --dport 443 -j RETURN") && !calls.some((c) => c.includes("30000:32767")), "ExternalIPs exposure opens 80 and 443, not the NodePorts");
    });

    it("refuses, before changing anything, rules that would drop the SSH client it runs under, naming its address and the config key", () => {
        const r = sb.run(worker(), "", { SSH_CLIENT: "203.0.113.99 51234 22" });
        assert.notStrictEqual(r.status, 0);
        assert.match(r.stderr, /refusing to apply the firewall on prod-worker-1: it admits SSH only from oslo-mesh:kubernetes\.adminCidrs \(198\.51\.100\.0\/24 192\.0\.2\.7\/32\), and this SSH session comes from 203\.0\.113\.99: .* Add 203\.0\.113\.99\/32, or its network, to oslo-mesh:kubernetes\.adminCidrs/);
        assert.deepStrictEqual(sb.calls(), [], "no rule, no unit");
        assert.ok(!fs.existsSync(path.join(sb.root, "usr/local/sbin/oslo-mesh-firewall")));
        for (const inside of ["198.51.100.42 51234 22", "192.0.2.7 40000 22", "::ffff:198.51.100.9 40000 22", "2001:db8::5 40000 22"]) {
            assert.strictEqual(sb.run(worker(), "", { SSH_CLIENT: inside }).status, 0, `${inside} is inside the admin CIDRs (or IPv6, which IPv4 rules leave alone)`);
        }
    });

    it("the command keeps the SSH client's address through sudo, where the check needs it", () => {
        const cmd = bashCommand("#!/usr/bin/env bash\nset -euo pipefail\necho \"$SSH_CLIENT\"\n", { sudo: true, keepEnv: ["SSH_CLIENT"] });
        assert.match(cmd, /sudo -n env SSH_CLIENT="\$SSH_CLIENT" bash "\$f"/);
    });

    it("the boot unit runs before the network comes up, as systemd documents for firewalls", () => {
        assert.strictEqual(sb.run(worker()).status, 0);
        const unit = fs.readFileSync(path.join(sb.root, "etc/systemd/system/oslo-mesh-firewall.service"), "utf8");
        const unitSection = unit.split("[Service]")[0];
        for (const line of ["DefaultDependencies=no", "Wants=network-pre.target", "Before=network-pre.target kubelet.service shutdown.target"]) assert.ok(unitSection.split("\n").includes(line), `${line} in\n${unit}`);
        assert.ok(!/^After=.*network/m.test(unit), "not after the network");
        assert.match(unit, /\[Install\]\nWantedBy=sysinit\.target\n$/);
        if (spawnSync("sh", ["-c", "command -v systemd-analyze"]).status === 0) {
            const dir = fs.mkdtempSync(path.join(sb.dir, "unit-"));
            const file = path.join(dir, "oslo-mesh-firewall.service");
            fs.writeFileSync(file, unit.replace("ExecStart=/usr/local/sbin/oslo-mesh-firewall --apply", "ExecStart=/bin/true --apply"));
            const r = spawnSync("systemd-analyze", ["verify", "--man=no", file], { encoding: "utf8" });
            assert.strictEqual(r.status, 0, r.stdout + r.stderr);
            assert.doesNotMatch(r.stdout + r.stderr, /ordering cycle|Unknown key|Failed/);
        }
    });
});

describe("kubernetes: the CNI, executed in a sandbox", () => {
    let sb: Sandbox;
    beforeEach(() => {
        sb = sandbox();
        // kubectl apply needs an API server: the fake cluster's, reached with admin.conf.
        fs.mkdirSync(path.join(sb.root, "etc/kubernetes"), { recursive: true });
        fs.writeFileSync(path.join(sb.root, "etc/kubernetes/admin.conf"), "kind: Config\n");
        fs.mkdirSync(path.join(sb.dir, "cluster"), { recursive: true });
        fs.writeFileSync(path.join(sb.dir, "cluster/state.json"), JSON.stringify({ apiServer: { node: "prod-cp-1" }, nodes: {}, configMaps: {}, daemonSets: {}, tokens: {}, roots: {}, etcd: {}, pods: [], pdbs: {} }));
    });
    afterEach(() => sb.cleanup());
    const k = () => parsedConfig("prod", stackFileConfig("prod")).kubernetes;
    const sha = (b: Buffer | string) => crypto.createHash("sha256").update(b).digest("hex");
    const applied = (): string[] => sb.cluster().applied ?? [];

    // _includes/v3.10/charts/calico/templates/calico-node.yaml at projectcalico/calico v3.10.4 (lines 263-264).
    const calico310 = "          env:\n            - name: CALICO_IPV4POOL_CIDR\n              value: \"192.168.0.0/16\"\n            - name: CALICO_DISABLE_FILE_LOGGING\n              value: \"true\"\n";

    it("the default manifest is Calico v3.10.4's, from its release archive, pinned by the archive's sha256; another URL needs its own pin", () => {
        const { kubernetesAdvisories } = require("../components/kubernetes/advisories");
        assert.strictEqual(k().cni.manifestUrl, "https://github.com/projectcalico/calico/releases/download/v3.10.4/release-v3.10.4.tgz#release-v3.10.4/k8s-manifests/calico.yaml");
        assert.ok(!k().cni.manifestUrl.includes("docs.projectcalico.org"), "docs.projectcalico.org answers 404 for it");
        assert.strictEqual(k().cni.manifestSha256, undefined, "the stack pins nothing");
        assert.match(renderCniScript(k()), /^readonly MANIFEST_SHA256='2052c411bcf17084bc67e9a5ec1d4f9c3a161190adfab9baf65a03b82fff3570'$/m);
        assert.ok(!kubernetesAdvisories(k()).some((w: string) => w.includes("manifestSha256")), "nothing to pin for the default");
        // Our sum never follows the stack to another URL.
        const mirror = { ...k(), cni: { manifestUrl: "https://mirror.example/release-v3.10.4.tgz#release-v3.10.4/k8s-manifests/calico.yaml" } };
        assert.match(renderCniScript(mirror), /^readonly MANIFEST_SHA256=''$/m);
        assert.ok(kubernetesAdvisories(mirror).some((w: string) => /manifestSha256 is not set: the CNI step stops before applying https:\/\/mirror\.example\/release-v3\.10\.4\.tgz\./.test(w)));
        assert.match(renderCniScript({ ...mirror, cni: { ...mirror.cni, manifestSha256: "c".repeat(64) } }), new RegExp(`^readonly MANIFEST_SHA256='${"c".repeat(64)}'$`, "m"));
    });

    it("takes the manifest out of a release archive, pinned by the archive's sha256, and sets the pod CIDR", () => {
        const src = path.join(sb.dir, "release");
        fs.mkdirSync(path.join(src, "release-v3.10.4/k8s-manifests"), { recursive: true });
        fs.writeFileSync(path.join(src, "release-v3.10.4/k8s-manifests/calico.yaml"), calico310);
        fs.writeFileSync(path.join(src, "release-v3.10.4/README"), "This directory contains a complete release of Calico v3.10.4\n");
        const tgz = path.join(sb.dir, "release-v3.10.4.tgz");
        assert.strictEqual(spawnSync("tar", ["-czf", tgz, "-C", src, "release-v3.10.4"]).status, 0);
        const url = `file://${tgz}#release-v3.10.4/k8s-manifests/calico.yaml`;
        const r = sb.run(renderCniScript({ ...k(), cni: { manifestUrl: url, manifestSha256: sha(fs.readFileSync(tgz)) } }, { root: sb.root }));
        assert.strictEqual(r.status, 0, r.stderr);
        const manifest = jsyaml.load(applied()[0]) as Record<string, any>;
        assert.deepStrictEqual(manifest.env, [{ name: "CALICO_IPV4POOL_CIDR", value: "10.244.0.0/16" }, { name: "CALICO_DISABLE_FILE_LOGGING", value: "true" }]);
        const missing = sb.run(renderCniScript({ ...k(), cni: { manifestUrl: `file://${tgz}#release-v3.10.4/k8s-manifests/calico-typha.yaml`, manifestSha256: sha(fs.readFileSync(tgz)) } }, { root: sb.root }));
        assert.notStrictEqual(missing.status, 0);
        assert.match(missing.stderr, /holds no release-v3\.10\.4\/k8s-manifests\/calico-typha\.yaml; nothing was applied/);
    });

    it("applies nothing without a pinned sha256, or with a wrong one, and says how to pin it", () => {
        fs.writeFileSync(path.join(sb.dir, "calico.yaml"), calico310);
        const url = `file://${sb.dir}/calico.yaml`;
        const unpinned = sb.run(renderCniScript({ ...k(), cni: { manifestUrl: url } }, { root: sb.root }));
        assert.notStrictEqual(unpinned.status, 0);
        assert.match(unpinned.stderr, new RegExp(`no sha256 pinned for ${url.replace(/[/.]/g, "\\$&")} \\(oslo-mesh:kubernetes\\.cni\\.manifestSha256\\): .* \\(the download here has ${sha(calico310)}\\); nothing was applied`));
        const wrong = sb.run(renderCniScript({ ...k(), cni: { manifestUrl: url, manifestSha256: "0".repeat(64) } }, { root: sb.root }));
        assert.match(wrong.stderr, /checksum mismatch .* nothing was applied/);
        assert.ok(!sb.calls().some((c) => c.startsWith("kubectl")));
        assert.deepStrictEqual(applied(), []);
    });

    it("later Calico manifests, whose pool is commented out, get the pod CIDR at the same indentation", () => {
        const manifest = 'kind: DaemonSet\n            # - name: CALICO_IPV4POOL_CIDR\n            #   value: "192.168.0.0/16"\n';
        fs.writeFileSync(path.join(sb.dir, "calico.yaml"), manifest);
        const r = sb.run(renderCniScript({ ...k(), cni: { manifestUrl: `file://${sb.dir}/calico.yaml`, manifestSha256: sha(manifest) } }, { root: sb.root }));
        assert.strictEqual(r.status, 0, r.stderr);
        assert.match(applied()[0], /^ {12}- name: CALICO_IPV4POOL_CIDR\n {14}value: "10\.244\.0\.0\/16"$/m);
    });
});

describe("kubernetes: the runtime's known holes, as a preview reports them", () => {
    it("containerd builds without the CVE-2020-15257 fix get a warning; Ubuntu's fixed focal builds do not", () => {
        const { kubernetesAdvisories } = require("../components/kubernetes/advisories");
        const k = parsedConfig("prod", stackFileConfig("prod")).kubernetes;
        const warns = (v: string) => kubernetesAdvisories({ ...k, containerdVersion: v }).some((w: string) => w.includes("CVE-2020-15257"));
        assert.ok(warns("1.3.3-0ubuntu2") && warns("1.3.3-0ubuntu2.1") && warns("1.3.8") && warns("1.4.2-0ubuntu1"));
        assert.ok(!warns("1.3.3-0ubuntu2.2") && !warns("1.3.3-0ubuntu2.3") && !warns("1.3.9") && !warns("1.4.3"));
    });
});

describe("kubernetes: the fake commands", () => {
    it("the bash fakes are shellcheck-clean and every fake names the upstream source it imitates", function () {
        const dir = path.join(__dirname, "fixtures", "fakebin");
        const files = fs.readdirSync(dir).filter((f) => !fs.lstatSync(path.join(dir, f)).isSymbolicLink());
        for (const f of files) assert.match(fs.readFileSync(path.join(dir, f), "utf8"), /Upstream sources?/, `${f} cites its upstream source`);
        if (spawnSync("sh", ["-c", "command -v shellcheck"]).status !== 0) {
            if (process.env.CI === "true") throw new Error("CI needs shellcheck");
            return this.skip();
        }
        const bash = files.filter((f) => fs.readFileSync(path.join(dir, f), "utf8").startsWith("#!/usr/bin/env bash"));
        assert.deepStrictEqual(bash.sort(), ["apt-get", "crictl", "fake", "iptables"]);
        const r = spawnSync("shellcheck", bash.map((f) => path.join(dir, f)), { encoding: "utf8" });
        assert.strictEqual(r.status, 0, r.stdout);
    });
});
