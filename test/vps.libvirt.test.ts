// The VPS scripts against a real libvirtd: plain QEMU emulation, a tiny blank disk in place
// of the cloud image, no network. Nothing is left behind, even when a test fails halfway.
// The faults (kills, races, strangers) are in vps.faults.test.ts.
import * as assert from "assert";
import { renderCloudInit } from "../components/vps/render";
import { HypervisorConfig, LibvirtHostSettings, METADATA_NAMESPACE, NodeConfig, parseCreatedIp, renderCreateScript, renderDeleteScript, vmVolumeNames } from "../components/vps/scripts";
import { LIBVIRT_URI, LibvirtSandbox, run, virsh } from "./libvirt";
import { TEST_PUBLIC_KEY } from "./harness";

const TEST_HOST: LibvirtHostSettings = { uri: LIBVIRT_URI, virtType: "qemu", cpu: "qemu64", osVariant: "ubuntu20.04", ipWaitSeconds: 1 };
const STACK = "test";

describe("vps: libvirt scripts against a real libvirtd", function () {
    this.timeout(180000);
    const box = new LibvirtSandbox("t");
    // No network and no bridge: the test VM gets --network=none and never any traffic.
    const hypervisor = (): HypervisorConfig => ({ name: "local", user: "root", port: 22, pool: box.pool, nameservers: [] });
    const node: NodeConfig = { name: `${box.prefix}-node-1`, role: "worker", vcpus: 1, memoryMiB: 128, diskGiB: 1 };
    const volumesOf = (n: NodeConfig) => vmVolumeNames(STACK, n.name);

    const scripts = (n: NodeConfig, host: LibvirtHostSettings = TEST_HOST) => {
        const h = hypervisor();
        const cloudInit = renderCloudInit({ node: n, hypervisor: h, sshUser: "ubuntu", sshPublicKey: TEST_PUBLIC_KEY, kernelArgs: ["systemd.unified_cgroup_hierarchy=0"] });
        return {
            create: renderCreateScript({ stack: STACK, node: n, hypervisor: h, image: { url: box.imageUrl, sha256: box.imageSha256 }, cloudInit, host }),
            delete: renderDeleteScript({ stack: STACK, node: n, hypervisor: h, host }),
        };
    };
    const bash = (script: string) => run("bash", ["-c", script]);
    const imageVolume = () => `oslo-mesh-image-${box.imageSha256.slice(0, 32)}`;

    before(function () {
        box.setUp(this);
    });
    after(() => {
        // The tests of this suite build on each other: the clean-up runs once, at the end.
        box.cleanUp("vps.libvirt", (domains) => {
            for (const d of domains) bash(scripts({ ...node, name: d }).delete);
        });
        box.tearDown();
    });

    it("creates the VM, and a second run changes nothing", () => {
        const s = scripts(node);
        const first = bash(s.create);
        assert.strictEqual(first.status, 0, first.stderr);
        assert.strictEqual(parseCreatedIp(first.stdout), "");
        const xml = virsh("dumpxml", node.name).stdout;
        const vols = box.volumes();
        assert.deepStrictEqual(vols, [volumesOf(node).disk, volumesOf(node).seed, imageVolume()].sort());

        const second = bash(s.create);
        assert.strictEqual(second.status, 0, second.stderr);
        assert.match(second.stderr, /the domain exists/);
        assert.strictEqual(virsh("dumpxml", node.name).stdout, xml, "the domain is unchanged");
        assert.deepStrictEqual(box.volumes(), vols, "no volume was added or removed");
    });

    it("the domain is what a node needs: running, persistent, autostarted, marked as the stack's node, virtio NVMe-pool disk with cache=none/io=native, the seed as a cdrom", () => {
        const info = box.info(node.name);
        assert.deepStrictEqual([info.State, info.Persistent, info.Autostart], ["running", "yes", "enable"]);
        const mark = virsh("metadata", node.name, METADATA_NAMESPACE);
        assert.strictEqual(mark.stdout.trim(), `<vm stack="${STACK}" node="${node.name}" image="${imageVolume()}"/>`, "libvirt reads the mark back in its namespace");
        const xml = virsh("dumpxml", node.name).stdout;
        assert.match(xml, /<driver name='qemu' type='qcow2' cache='none' io='native'\/>\s*<source file='[^']*\/pool\/[^']*\.disk'/);
        assert.match(xml, /<target dev='vda' bus='virtio'\/>/);
        assert.match(xml, /<disk type='file' device='cdrom'>[\s\S]*?<source file='[^']*\.seed'/);
        assert.match(xml, /<vcpu placement='static'>1<\/vcpu>/);
        // The disk is a copy-on-write child of the base image, at the configured size.
        const disk = JSON.parse(run("qemu-img", ["info", "-U", "--output=json", box.volumePath(volumesOf(node).disk)]).stdout);
        assert.strictEqual(disk["virtual-size"], 1024 ** 3);
        assert.match(disk["backing-filename"], new RegExp(`${imageVolume()}$`));
    });

    it("the seed is a NoCloud cidata image with the node's hostname, key and network", () => {
        const seed = box.volumePath(volumesOf(node).seed);
        const iso = run("isoinfo", ["-d", "-i", seed]);
        assert.match(iso.stdout, /^Volume id: cidata$/m);
        const userData = run("isoinfo", ["-i", seed, "-R", "-x", "/user-data"]).stdout;
        assert.ok(userData.startsWith("#cloud-config\n"));
        assert.match(userData, new RegExp(`^hostname: ${node.name}$`, "m"));
        assert.ok(userData.includes(TEST_PUBLIC_KEY));
        assert.match(run("isoinfo", ["-i", seed, "-R", "-x", "/meta-data"]).stdout, new RegExp(`instance-id: ${node.name}`));
        assert.match(run("isoinfo", ["-i", seed, "-R", "-x", "/network-config"]).stdout, /^version: 2$/m);
    });

    it("deletes the VM, its disk, its seed and the base image it was the last user of; deleting again succeeds", () => {
        const s = scripts(node);
        for (let i = 0; i < 2; i++) {
            const r = bash(s.delete);
            assert.strictEqual(r.status, 0, r.stderr);
        }
        assert.deepStrictEqual(box.domains(), []);
        assert.deepStrictEqual(box.volumes(), []);
    });

    it("a run that failed halfway converges on the next run", () => {
        const n = { ...node, name: `${box.prefix}-node-2` };
        const broken = bash(scripts(n, { ...TEST_HOST, osVariant: "no-such-os" }).create);
        assert.notStrictEqual(broken.status, 0, "virt-install refuses an unknown OS");
        assert.deepStrictEqual(box.domains(), []);
        assert.ok(box.volumes().includes(volumesOf(n).disk), "the disk of the failed run is there");
        const again = bash(scripts(n).create);
        assert.strictEqual(again.status, 0, again.stderr);
        assert.deepStrictEqual(box.domains(), [n.name]);
        const del = bash(scripts(n).delete);
        assert.strictEqual(del.status, 0, del.stderr);
        assert.deepStrictEqual(box.domains(), []);
    });
});
