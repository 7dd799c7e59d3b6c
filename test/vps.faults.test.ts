// The libvirt scripts under real faults, against the real libvirtd (plain QEMU emulation,
// tiny blank images, no network): runs killed at named points by the stand-ins in
// test/fixtures/vps-faultbin, two creates at once on one pool, strangers named like a node,
// paused and managed-saved domains, and a delete that cannot reach libvirt. Every command
// runs exactly as the program registers it (bashCommand), through /bin/sh -c, as Pulumi's
// local Command does. Nothing of a test remains after the suite.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { bashCommand } from "../components/shared/script";
import { renderCloudInit } from "../components/vps/render";
import { HypervisorConfig, LibvirtHostSettings, NodeConfig, VmImage, renderCreateScript, renderDeleteScript, vmVolumeNames } from "../components/vps/scripts";
import { FAULT_BIN, LIBVIRT_URI, LibvirtSandbox, Run, requireOrSkip, run, sha256, virsh } from "./libvirt";
import { TEST_PUBLIC_KEY } from "./harness";

const STACK = "test";
const TEST_HOST: LibvirtHostSettings = { uri: LIBVIRT_URI, virtType: "qemu", cpu: "qemu64", osVariant: "ubuntu20.04", ipWaitSeconds: 1 };

describe("vps: libvirt scripts under real faults", function () {
    this.timeout(300000);
    const box = new LibvirtSandbox("f");
    const hypervisor = (): HypervisorConfig => ({ name: "local", user: "root", port: 22, pool: box.pool, nameservers: [] });
    const node = (suffix: string): NodeConfig => ({ name: `${box.prefix}-${suffix}`, role: "worker", vcpus: 1, memoryMiB: 128, diskGiB: 1 });
    const published = (): VmImage => ({ url: box.imageUrl, checksumUrl: box.checksumUrl });
    let images = 0;
    /** An image no test has used yet, so that the run must upload it (distinct sizes from 20 MiB up). */
    const freshImage = () => {
        const i = box.addImage(`fresh-${++images}.qcow2`, 20 + images);
        return { image: { url: i.url, checksumUrl: box.checksumUrl } as VmImage, sha256: i.sha256 };
    };

    interface Variant {
        readonly image?: VmImage;
        readonly host?: Partial<LibvirtHostSettings>;
        readonly hypervisor?: Partial<HypervisorConfig>;
        readonly stack?: string;
    }
    /** The create and delete command lines the program registers for a node. */
    const commands = (n: NodeConfig, v: Variant = {}) => {
        const h = { ...hypervisor(), ...v.hypervisor };
        const host = { ...TEST_HOST, ...v.host };
        const cloudInit = renderCloudInit({ node: n, hypervisor: h, sshUser: "ubuntu", sshPublicKey: TEST_PUBLIC_KEY, kernelArgs: [] });
        const stack = v.stack ?? STACK;
        return {
            create: bashCommand(renderCreateScript({ stack, node: n, hypervisor: h, image: v.image ?? published(), cloudInit, host }), { sudo: false }),
            delete: bashCommand(renderDeleteScript({ stack, node: n, hypervisor: h, host }), { sudo: false }),
        };
    };
    const ok = (r: Run, what: string) => assert.strictEqual(r.status, 0, `${what} failed:\n${r.stderr}`);
    const killed = (r: Run) => {
        assert.match(r.stderr, /fault stand-in: .* killing process group/, "the fault fired");
        assert.ok(r.status !== 0, `the run was stopped by the fault, got status ${r.status}:\n${r.stderr}`);
    };
    const imageVolumes = () => box.volumes().filter((v) => v.startsWith("oslo-mesh-image-") || v.startsWith("oslo-mesh-base-"));
    /** The sha256 of the file a domain's disk is a copy-on-write child of. */
    const backingSha = (domain: string) => sha256(fs.readFileSync(box.diskChain(domain).backing));
    const deleteNode = async (n: NodeConfig) => ok(await box.command(commands(n).delete), `delete ${n.name}`);

    before(function () {
        box.setUp(this);
    });
    afterEach(function () {
        box.cleanUp(this.currentTest?.title ?? "", (domains) => {
            for (const d of domains) run("sh", ["-c", commands({ ...node("x"), name: d }).delete]);
        });
    });
    after(() => box.tearDown());

    describe("the base image (items 3, 4, 5)", () => {
        it("killed during the base image upload: the next run uploads it again, and the disk backs onto the whole, verified image", async () => {
            const n = node("upload");
            const { image, sha256: sum } = freshImage();
            const c = commands(n, { image });
            killed(await box.command(c.create, { fault: "virsh|partial|KILL|vol-upload .*oslo-mesh-(base|image)-" }));
            ok(await box.command(c.create), "the run after the kill");
            assert.strictEqual(box.state(n.name), "running");
            assert.strictEqual(backingSha(n.name), sum, "the disk's base is the image, byte for byte");
            await deleteNode(n);
        });

        it("a present base volume that does not match its checksum is not used", async () => {
            // A base volume that no node uses and whose bytes are not the image's (e.g. damaged on disk).
            const b = node("trust-b");
            const { image, sha256: sum } = freshImage();
            const c = commands(b, { image });
            const stop = "virsh|before|KILL|vol-create-as .*[.-]disk( |$)";
            killed(await box.command(c.create, { fault: stop }));
            assert.strictEqual(imageVolumes().length >= 1, true, "the killed run left its base volume");
            for (const v of imageVolumes()) {
                const junk = path.join(box.scratch("junk"), "zeros");
                fs.writeFileSync(junk, Buffer.alloc(fs.statSync(box.volumePath(v)).size));
                ok(virsh("vol-upload", "--pool", box.pool, v, junk), "overwrite the base volume");
            }
            ok(await box.command(c.create), "create over a damaged base volume");
            assert.strictEqual(backingSha(b.name), sum, "the damaged volume was replaced by the verified image");
            await deleteNode(b);
        });

        for (const [what, image, wrongSums] of [
            ["the publisher's SHA256SUMS", () => published(), true],
            ["a pinned sha256", () => ({ url: box.imageUrl, sha256: "0".repeat(64) }), false],
        ] as const) {
            it(`an image that does not match ${what} aborts before anything is created`, async () => {
                if (wrongSums) box.writeChecksums({ "blank.qcow2": "f".repeat(64) });
                try {
                    const n = node("mismatch");
                    const r = await box.command(commands(n, { image: image() }).create);
                    assert.notStrictEqual(r.status, 0, "the create fails");
                    assert.match(r.stderr, /sha256/i);
                    assert.match(r.stderr, new RegExp(box.imageSha256), "the message says what the download's checksum is");
                    assert.deepStrictEqual(box.domains(), []);
                    assert.deepStrictEqual(box.volumes(), [], "no volume was created");
                } finally {
                    box.writeChecksums();
                }
            });
        }

        it("two first creates at once on one pool both succeed, from one verified base image", async () => {
            const [a, b] = [node("twin-a"), node("twin-b")];
            const { image, sha256: sum } = freshImage();
            const before = imageVolumes();
            // Both runs look for the base image before either has written it (the download is slowed).
            const slow = `curl|2|${path.basename(image.url)}`;
            const [ra, rb] = await Promise.all([box.command(commands(a, { image }).create, { slow }), box.command(commands(b, { image }).create, { slow })]);
            ok(ra, "create a");
            ok(rb, "create b");
            assert.deepStrictEqual([box.state(a.name), box.state(b.name)], ["running", "running"]);
            assert.strictEqual(imageVolumes().filter((v) => !before.includes(v)).length, 1, "one base image");
            assert.strictEqual(backingSha(a.name), sum);
            assert.strictEqual(backingSha(b.name), sum);
            await Promise.all([deleteNode(a), deleteNode(b)]);
        });
    });

    describe("the domain (items 6, 8, 9, 11)", () => {
        it("killed between define and start: the next run makes it persistent, autostarted and running", async () => {
            const n = node("define");
            const c = commands(n);
            // The new scripts define first (virsh define); virt-install itself starts, then defines (installer.py).
            // The fault fires on whichever comes first: `virsh define` (define first), or virt-install
            // run to do the whole job (the print-xml call has no --autostart).
            const fault = ["virsh|after|KILL|^--quiet --connect \\S+ define ", "virt-install|transient|KILL|--autostart"].join("\n");
            killed(await box.command(c.create, { fault }));
            assert.ok(box.domains().includes(n.name), "the kill left a domain behind");
            ok(await box.command(c.create), "the run after the kill");
            const info = box.info(n.name);
            assert.deepStrictEqual([info.State, info.Persistent, info.Autostart], ["running", "yes", "enable"]);
            await deleteNode(n);
            assert.ok(!box.domains().includes(n.name));
        });

        it("a domain of ours that lost persistence or autostart is repaired on the next run", async () => {
            const n = node("repair");
            const c = commands(n);
            ok(await box.command(c.create), "create");
            ok(virsh("autostart", "--disable", n.name), "autostart off");
            ok(virsh("undefine", n.name), "undefine: the running domain becomes transient");
            assert.strictEqual(box.info(n.name).Persistent, "no");
            ok(await box.command(c.create), "the next run");
            const info = box.info(n.name);
            assert.deepStrictEqual([info.State, info.Persistent, info.Autostart], ["running", "yes", "enable"]);
            await deleteNode(n);
        });

        it("a domain of ours that is transient (as a killed virt-install leaves it) is deleted in one run", async () => {
            const n = node("transient");
            const c = commands(n);
            ok(await box.command(c.create), "create");
            ok(virsh("undefine", n.name), "undefine: the running domain becomes transient");
            ok(await box.command(c.delete), "delete a transient domain");
            assert.ok(!box.domains().includes(n.name));
            assert.deepStrictEqual(box.volumes(), []);
        });

        it("a domain with snapshots is deleted with their metadata", async () => {
            const n = node("snapshots");
            const c = commands(n);
            ok(await box.command(c.create), "create");
            ok(virsh("destroy", n.name), "stop it");
            ok(virsh("snapshot-create-as", n.name, "before-upgrade"), "an internal snapshot");
            ok(virsh("start", n.name), "start it");
            ok(await box.command(c.delete), "delete a domain with a snapshot");
            assert.ok(!box.domains().includes(n.name));
            assert.deepStrictEqual(box.volumes(), []);
        });

        it("a paused domain is resumed, not started", async () => {
            const n = node("paused");
            const c = commands(n);
            ok(await box.command(c.create), "create");
            ok(virsh("suspend", n.name), "suspend");
            assert.strictEqual(box.state(n.name), "paused");
            ok(await box.command(c.create), "create over a paused domain");
            assert.strictEqual(box.state(n.name), "running");
            await deleteNode(n);
        });

        it("a managed-saved domain is restored by create, and delete removes it with its save image", async () => {
            const n = node("saved");
            const c = commands(n);
            ok(await box.command(c.create), "create");
            ok(virsh("managedsave", n.name), "managedsave (what libvirt-guests does at host shutdown)");
            assert.match(virsh("domstate", n.name, "--reason").stdout, /shut off \(saved\)/);
            ok(await box.command(c.create), "create over a managed-saved domain");
            assert.strictEqual(box.state(n.name), "running");
            ok(virsh("managedsave", n.name), "managedsave again");
            ok(await box.command(c.delete), "delete a managed-saved domain");
            assert.ok(!box.domains().includes(n.name));
            assert.ok(!fs.existsSync(`/var/lib/libvirt/qemu/save/${n.name}.save`), "the save image is gone");
        });

        it("a foreign domain with a node's name is neither adopted nor deleted", async () => {
            const n = node("stranger");
            const strangerDisk = `${box.prefix}-stranger-own-disk`;
            box.defineStranger(n.name, strangerDisk);
            try {
                const c = commands(n, {});
                const create = await box.command(c.create);
                assert.notStrictEqual(create.status, 0, "create refuses the stranger");
                assert.match(create.stderr, new RegExp(`domain ${n.name}\\b.*not made by oslo-mesh`));
                const del = await box.command(c.delete);
                assert.notStrictEqual(del.status, 0, "delete refuses the stranger");
                assert.match(del.stderr, new RegExp(`domain ${n.name}\\b.*not made by oslo-mesh`));
                const info = box.info(n.name);
                assert.deepStrictEqual([info.State, info["CPU(s)"], info["Max memory"]], ["running", "1", "262144 KiB"], "the stranger is untouched");
                assert.ok(box.volumes().includes(strangerDisk), "and so is its volume");
            } finally {
                box.forceRemove(n.name, [strangerDisk, ...Object.values(vmVolumeNames(STACK, n.name))]);
            }
        });

        it("a domain made by another stack for a node of the same name is neither adopted nor deleted", async () => {
            const n = node("other-stack");
            ok(await box.command(commands(n, { stack: "staging" }).create), "create in stack staging");
            try {
                const c = commands(n);
                const create = await box.command(c.create);
                assert.notStrictEqual(create.status, 0);
                assert.match(create.stderr, /made by oslo-mesh stack staging/);
                const del = await box.command(c.delete);
                assert.notStrictEqual(del.status, 0);
                assert.match(del.stderr, /made by oslo-mesh stack staging/);
                assert.strictEqual(box.state(n.name), "running");
            } finally {
                ok(await box.command(commands(n, { stack: "staging" }).delete), "delete in stack staging");
            }
        });

        it("a hypervisor whose virt-install predates --osinfo (virt-manager 2.2.1) creates the VM", async () => {
            const n = node("old-virtinst");
            const r = await box.command(commands(n).create, { env: { OSLO_VIRT_INSTALL_VERSION: "2.2.1" } });
            ok(r, "create with virt-install 2.2.1");
            assert.strictEqual(box.state(n.name), "running");
            await deleteNode(n);
        });

        for (const key of ["pool", "network", "bridge"] as const) {
            it(`a hypervisor ${key} that would add virt-install sub-options is refused before anything is created`, async () => {
                const n = { ...node(`inject-${key}`), ...(key === "bridge" ? { ip: "192.0.2.10" } : {}) };
                const value = key === "pool" ? `${box.pool},cache=unsafe` : "br0,mac=52:54:00:00:00:01";
                const addressing = key === "bridge" ? { subnet: "192.0.2.0/24", gateway: "192.0.2.1" } : {};
                const r = await box.command(commands(n, { hypervisor: { [key]: value, ...addressing } }).create);
                assert.notStrictEqual(r.status, 0);
                assert.match(r.stderr, new RegExp(`${key.toUpperCase()} .*not a libvirt name`));
                assert.deepStrictEqual(box.domains(), []);
                assert.deepStrictEqual(box.volumes(), []);
            });
        }
    });

    describe("delete (item 7) and leftovers (item 10)", () => {
        for (const [who, opts, variant] of [
            ["a user without access to libvirt", { user: "nobody" }, {}],
            ["a wrong libvirt URI", {}, { host: { uri: "qemu+unix:///system?socket=/nonexistent/libvirt-sock" } }],
        ] as const) {
            it(`delete by ${who} fails with libvirt's message and the VM keeps running`, async () => {
                const n = node("noaccess");
                ok(await box.command(commands(n).create), "create");
                const r = await box.command(commands(n, variant).delete, opts);
                assert.notStrictEqual(r.status, 0, "delete fails");
                assert.match(r.stderr, /failed to connect to the hypervisor/, "libvirt's own error");
                assert.doesNotMatch(r.stdout + r.stderr, /deleted/);
                assert.strictEqual(box.state(n.name), "running");
                await deleteNode(n);
            });
        }

        for (const [point, fault] of [
            ["after the disk volume", "virsh|after|TERM|vol-create-as .*[.-]disk( |$)"],
            ["during the base image upload", "virsh|partial|TERM|vol-upload .*oslo-mesh-(base|image)-"],
            ["between define and start", "virsh|after|TERM|^--quiet --connect \\S+ define \nvirt-install|transient|TERM|--autostart"],
        ]) {
            it(`a run stopped by SIGTERM ${point} leaves nothing in TMPDIR`, async () => {
                const n = node("sigterm");
                const tmp = box.scratch("tmp");
                const { image } = freshImage();
                killed(await box.command(commands(n, { image }).create, { fault, env: { TMPDIR: tmp } }));
                assert.deepStrictEqual(fs.readdirSync(tmp), [], "no script and no work directory remain");
                ok(await box.command(commands(n, { image }).create), "the next run");
                await deleteNode(n);
            });
        }

        it("after a SIGKILL during the upload, the next run removes the killed run's work directory", async () => {
            const n = node("sigkill");
            const tmp = box.scratch("tmp");
            const { image } = freshImage();
            killed(await box.command(commands(n, { image }).create, { fault: "virsh|partial|KILL|vol-upload .*oslo-mesh-(base|image)-", env: { TMPDIR: tmp } }));
            const dirs = () => fs.readdirSync(tmp).filter((f) => fs.statSync(path.join(tmp, f)).isDirectory());
            // SIGKILL cannot be trapped: the work directory (with the downloaded image) stays, and
            // the command's own small script file, which the next run cannot tell from a live one's.
            assert.deepStrictEqual(dirs().map((d) => d.replace(/\..*/, "")), ["oslo-mesh-vps"], "the killed run left its work directory");
            ok(await box.command(commands(n, { image }).create, { env: { TMPDIR: tmp } }), "the next run");
            assert.deepStrictEqual(dirs(), [], "no work directory remains");
            await deleteNode(n);
        });

        it("the base image goes when its last node goes, not before", async () => {
            const [a, b] = [node("last-a"), node("last-b")];
            const { image } = freshImage();
            const before = imageVolumes();
            ok(await box.command(commands(a, { image }).create), "create a");
            ok(await box.command(commands(b, { image }).create), "create b");
            const base = imageVolumes().filter((v) => !before.includes(v));
            assert.strictEqual(base.length, 1, "one base image for the two nodes");
            await deleteNode(a);
            assert.ok(box.volumes().includes(base[0]), "b still uses it");
            assert.strictEqual(box.state(b.name), "running");
            await deleteNode(b);
            assert.ok(!box.volumes().includes(base[0]), "the base image went with its last node");
        });
    });
});

describe("vps: the fault stand-ins", () => {
    it("are shellcheck-clean", function () {
        requireOrSkip(this, run("sh", ["-c", "command -v shellcheck"]).status === 0 ? undefined : "shellcheck is not installed (apt-get install shellcheck)");
        const r = run("shellcheck", fs.readdirSync(FAULT_BIN).map((f) => path.join(FAULT_BIN, f)));
        assert.strictEqual(r.status, 0, r.stdout);
    });
});
