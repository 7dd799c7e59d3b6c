// Node preparation on a node cloned from the node image, executed in the sandbox: the image's
// preparation (what its builder runs) installs everything and pulls kubeadm's images; a node
// whose disk is a copy of that only configures, with no download and no pull.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { KubernetesConfig, renderNodeImageInstall, renderPrepareScript } from "../components/kubernetes/render";
import { Sandbox, buildMirror, kubeConfig, sandbox } from "./kubernetes.sandbox";

const KUBEADM_IMAGES = ["kube-apiserver:v1.15.12", "kube-controller-manager:v1.15.12", "kube-scheduler:v1.15.12", "kube-proxy:v1.15.12", "pause:3.1", "etcd:3.3.10", "coredns:1.3.1"];

describe("kubernetes: node preparation on a clone of the node image (sandbox)", () => {
    let sb: Sandbox;
    let k: KubernetesConfig;
    const images = (root: string) => fs.readFileSync(path.join(root, "var/lib/fake-containerd/images"), "utf8").split("\n").filter(Boolean);
    beforeEach(() => {
        sb = sandbox();
        k = kubeConfig(sb);
        buildMirror(sb, k);
    });
    afterEach(() => sb.cleanup());

    it("the image's preparation installs the runtime and tools and pulls kubeadm's images; a clone only configures, with the mirror gone", () => {
        const built = sb.run(renderNodeImageInstall(k, { root: sb.root }));
        assert.strictEqual(built.status, 0, built.stderr);
        assert.match(built.stdout, /\[prepare node-image\] kubeadm's images for Kubernetes 1\.15\.12/);
        assert.deepStrictEqual(images(sb.root), KUBEADM_IMAGES.map((i) => `registry.k8s.io/${i}`));
        assert.ok(sb.calls().some((c) => c.startsWith("kubeadm config images pull --kubernetes-version v1.15.12 --image-repository registry.k8s.io --cri-socket /run/containerd/containerd.sock")));

        // Two nodes whose disks are copies of the image; nothing can be downloaded any more.
        for (const node of ["prod-cp-2", "prod-worker-1"]) fs.cpSync(sb.root, sb.rootOf(node), { recursive: true });
        fs.rmSync(sb.mirror, { recursive: true });
        for (const [node, pullImages] of [["prod-cp-2", true], ["prod-worker-1", false]] as const) {
            sb.clearCalls();
            const r = sb.runOn(node, renderPrepareScript(node, k, { root: sb.rootOf(node) }, { pullImages }));
            assert.strictEqual(r.status, 0, `${node}: ${r.stderr}`);
            assert.match(r.stdout, /installing 0 verified download\(s\)/);
            const calls = sb.calls();
            for (const work of ["apt-get", "sysctl --system", "systemctl restart", "systemctl daemon-reload", "crictl -r unix:///run/containerd/containerd.sock pull", "kubeadm config images pull"]) {
                assert.ok(!calls.some((c) => c.startsWith(work)), `${node} does not run ${work}: ${calls.join("; ")}`);
            }
            if (pullImages) assert.strictEqual(calls.filter((c) => c.startsWith("crictl") && c.includes(" inspecti ")).length, KUBEADM_IMAGES.length, "a control plane checks every image kubeadm lists");
        }
    });

    it("a pull that fails fails the preparation and names what is missing (kubeadm 1.15's `config images pull` itself exits 0)", () => {
        const r = sb.run(renderNodeImageInstall(k, { root: sb.root }), "", { FAKE_CRICTL_PULL_FAIL: "1" });
        assert.notStrictEqual(r.status, 0);
        assert.match(r.stderr, /kubeadm config images pull left images missing: registry\.k8s\.io\/kube-apiserver:v1\.15\.12 registry\.k8s\.io\/kube-controller-manager:v1\.15\.12 .*registry\.k8s\.io\/coredns:1\.3\.1$/m);
    });

    it("a half-pulled image store is completed by the next run, which pulls again only because something is missing", () => {
        const root = sb.root;
        fs.mkdirSync(path.join(root, "var/lib/fake-containerd"), { recursive: true });
        fs.writeFileSync(path.join(root, "var/lib/fake-containerd/images"), `registry.k8s.io/${KUBEADM_IMAGES[0]}\n`);
        const r = sb.run(renderNodeImageInstall(k, { root }));
        assert.strictEqual(r.status, 0, r.stderr);
        assert.deepStrictEqual(images(root).sort(), KUBEADM_IMAGES.map((i) => `registry.k8s.io/${i}`).sort());
        sb.clearCalls();
        assert.strictEqual(sb.run(renderNodeImageInstall(k, { root })).status, 0);
        assert.ok(!sb.calls().some((c) => c.includes(" pull ")), "complete: no pull");
    });
});
