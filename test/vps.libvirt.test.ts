// The VPS scripts against a real libvirtd: plain QEMU emulation, a tiny blank disk in place
// of the cloud image, no network. Nothing is left behind, even when a test fails halfway.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { renderCloudInit, renderCreateScript, renderDeleteScript, baseVolumeName, LibvirtHostSettings, HypervisorConfig, NodeConfig, parseCreatedIp } from "../components/vps/render";
import { LIBVIRT_URI, libvirtUnavailable, requireOrSkip, run, virsh } from "./libvirt";
import { TEST_PUBLIC_KEY } from "./harness";

const TEST_HOST: LibvirtHostSettings = { uri: LIBVIRT_URI, virtType: "qemu", cpu: "qemu64", osVariant: "ubuntu20.04", ipWaitSeconds: 1 };
const PREFIX = `omt${process.pid}`;
const POOL = `${PREFIX}-pool`;

describe("vps: libvirt scripts against a real libvirtd", function () {
    this.timeout(180000);
    let dir = "";
    let imageUrl = "";
    // No network and no bridge: the test VM gets --network=none and never any traffic.
    const hypervisor: HypervisorConfig = { name: "local", user: "root", port: 22, pool: POOL, nameservers: [] };
    const node: NodeConfig = { name: `${PREFIX}-node-1`, role: "worker", vcpus: 1, memoryMiB: 128, diskGiB: 1 };

    const scripts = (n: NodeConfig, host: LibvirtHostSettings = TEST_HOST) => {
        const cloudInit = renderCloudInit({ node: n, hypervisor, sshUser: "ubuntu", sshPublicKey: TEST_PUBLIC_KEY, kernelArgs: ["systemd.unified_cgroup_hierarchy=0"] });
        return {
            create: renderCreateScript({ node: n, hypervisor, imageUrl, cloudInit, host }),
            delete: renderDeleteScript({ node: n, hypervisor, host }),
        };
    };
    const bash = (script: string) => run("bash", ["-c", script]);
    const ourDomains = () => virsh("list", "--all", "--name").stdout.split("\n").map((s) => s.trim()).filter((s) => s.startsWith(PREFIX));
    const volumes = () => virsh("vol-list", "--pool", POOL).stdout.split("\n").map((l) => l.trim().split(/\s+/)[0]).filter(Boolean).sort();

    before(function () {
        requireOrSkip(this, libvirtUnavailable());
        dir = fs.mkdtempSync("/var/tmp/oslo-mesh-libvirt-"); // not tmpfs: cache=none needs O_DIRECT
        fs.chmodSync(dir, 0o755); // QEMU runs as its own user and must reach the pool
        fs.mkdirSync(path.join(dir, "pool"));
        const img = path.join(dir, "blank.qcow2");
        assert.strictEqual(run("qemu-img", ["create", "-q", "-f", "qcow2", img, "16M"]).status, 0);
        imageUrl = `file://${img}`;
        // A transient pool: it vanishes with libvirtd, and never outlives the suite.
        const p = virsh("pool-create-as", POOL, "dir", "--target", path.join(dir, "pool"));
        assert.strictEqual(p.status, 0, p.stderr);
    });

    after(function () {
        if (!dir) return;
        const names = new Set([...ourDomains(), ...volumes().filter((v) => v.startsWith(PREFIX)).map((v) => v.replace(/-(disk|seed)$/, ""))]);
        for (const name of names) bash(scripts({ ...node, name }).delete);
        const leftDomains = ourDomains();
        const leftVolumes = volumes().filter((v) => v !== baseVolumeName(imageUrl));
        virsh("pool-destroy", POOL);
        fs.rmSync(dir, { recursive: true, force: true });
        assert.deepStrictEqual({ leftDomains, leftVolumes }, { leftDomains: [], leftVolumes: [] }, "nothing is left behind");
    });

    it("creates the VM, and a second run changes nothing", () => {
        const s = scripts(node);
        const first = bash(s.create);
        assert.strictEqual(first.status, 0, first.stderr);
        assert.strictEqual(parseCreatedIp(first.stdout), "");
        const xml = virsh("dumpxml", node.name).stdout;
        const vols = volumes();
        assert.deepStrictEqual(vols, [`${node.name}-disk`, `${node.name}-seed`, baseVolumeName(imageUrl)].sort());

        const second = bash(s.create);
        assert.strictEqual(second.status, 0, second.stderr);
        assert.match(second.stderr, /the domain exists/);
        assert.strictEqual(virsh("dumpxml", node.name).stdout, xml, "the domain is unchanged");
        assert.deepStrictEqual(volumes(), vols, "no volume was added or removed");
    });

    it("the domain is what a node needs: running, autostarted, virtio NVMe-pool disk with cache=none/io=native, the seed as a cdrom", () => {
        assert.strictEqual(virsh("domstate", node.name).stdout.trim(), "running");
        assert.match(virsh("dominfo", node.name).stdout, /^Autostart:\s+enable$/m);
        const xml = virsh("dumpxml", node.name).stdout;
        assert.match(xml, /<driver name='qemu' type='qcow2' cache='none' io='native'\/>\s*<source file='[^']*\/pool\/[^']*-disk'/);
        assert.match(xml, /<target dev='vda' bus='virtio'\/>/);
        assert.match(xml, /<disk type='file' device='cdrom'>[\s\S]*?<source file='[^']*-seed'/);
        assert.match(xml, /<vcpu placement='static'>1<\/vcpu>/);
        // The disk is a copy-on-write child of the base image, at the configured size.
        const info = JSON.parse(run("qemu-img", ["info", "-U", "--output=json", path.join(dir, "pool", `${node.name}-disk`)]).stdout);
        assert.strictEqual(info["virtual-size"], 1024 ** 3);
        assert.match(info["backing-filename"], new RegExp(`${baseVolumeName(imageUrl)}$`));
    });

    it("the seed is a NoCloud cidata image with the node's hostname, key and network", () => {
        const seed = path.join(dir, "pool", `${node.name}-seed`);
        const iso = run("isoinfo", ["-d", "-i", seed]);
        assert.match(iso.stdout, /^Volume id: cidata$/m);
        const userData = run("isoinfo", ["-i", seed, "-R", "-x", "/user-data"]).stdout;
        assert.ok(userData.startsWith("#cloud-config\n"));
        assert.match(userData, new RegExp(`^hostname: ${node.name}$`, "m"));
        assert.ok(userData.includes(TEST_PUBLIC_KEY));
        assert.match(run("isoinfo", ["-i", seed, "-R", "-x", "/meta-data"]).stdout, new RegExp(`instance-id: ${node.name}`));
        assert.match(run("isoinfo", ["-i", seed, "-R", "-x", "/network-config"]).stdout, /^version: 2$/m);
    });

    it("deletes the VM, its disk and its seed, and deleting again succeeds", () => {
        const s = scripts(node);
        for (let i = 0; i < 2; i++) {
            const r = bash(s.delete);
            assert.strictEqual(r.status, 0, r.stderr);
        }
        assert.deepStrictEqual(ourDomains(), []);
        assert.deepStrictEqual(volumes(), [baseVolumeName(imageUrl)], "only the shared base image stays");
    });

    it("a run that failed halfway converges on the next run", () => {
        const n = { ...node, name: `${PREFIX}-node-2` };
        const broken = bash(scripts(n, { ...TEST_HOST, osVariant: "no-such-os" }).create);
        assert.notStrictEqual(broken.status, 0, "virt-install refuses an unknown OS");
        assert.deepStrictEqual(ourDomains(), []);
        assert.ok(volumes().includes(`${n.name}-disk`), "the disk of the failed run is there");
        const again = bash(scripts(n).create);
        assert.strictEqual(again.status, 0, again.stderr);
        assert.deepStrictEqual(ourDomains(), [n.name]);
        const del = bash(scripts(n).delete);
        assert.strictEqual(del.status, 0, del.stderr);
        assert.deepStrictEqual(ourDomains(), []);
    });
});
