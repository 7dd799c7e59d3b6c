// The node image against a real libvirtd: plain QEMU emulation, a tiny blank disk in place of the
// cloud image, no network. A blank disk boots no operating system, so nothing runs cloud-init in
// the builder here: the test stands in for the guest (it writes the builder's verdict on its
// result disk and powers it off). What this proves: the builder is defined as the guest needs it
// (image disk on the verified base image, seed, result disk, mark), is waited for with a timeout,
// its disk becomes the image, node disks back onto it, holds keep it and it goes with the last,
// failures and killed runs leave nothing, and a second run builds nothing. What it cannot prove:
// that cloud-init in Ubuntu's image runs the build unit and the preparation (the seed is checked
// with cloud-init's own schema, and the build script is executed in a sandbox instead).
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { renderCloudInit } from "../components/vps/render";
import { builderDomain, holdVolume, NodeImageRecipe, nodeImageVolume, renderNodeImageDeleteScript, renderNodeImageScript } from "../components/vps/nodeImageRender";
import { HypervisorConfig, LibvirtHostSettings, METADATA_NAMESPACE, NodeConfig, renderCreateScript, renderDeleteScript } from "../components/vps/scripts";
import { LIBVIRT_URI, LibvirtSandbox, Run, run, sha256, virsh } from "./libvirt";
import { TEST_PUBLIC_KEY } from "./harness";

const TEST_HOST: LibvirtHostSettings = { uri: LIBVIRT_URI, virtType: "qemu", cpu: "qemu64", osVariant: "ubuntu20.04", ipWaitSeconds: 1, builderNetwork: "none", buildTimeoutSeconds: 90 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("vps: the node image against a real libvirtd", function () {
    this.timeout(300000);
    const box = new LibvirtSandbox("n");
    const hypervisor = (): HypervisorConfig => ({ name: "local", user: "root", port: 22, pool: box.pool, nameservers: [] });
    const recipe = (): NodeImageRecipe => ({ base: { url: box.imageUrl, sha256: box.imageSha256 }, kernelArgs: ["systemd.unified_cgroup_hierarchy=0"], install: "#!/usr/bin/env bash\necho install\n", diskGiB: 1 });
    const image = () => nodeImageVolume(recipe());
    const builder = () => builderDomain(image());
    const baseVolume = () => `oslo-mesh-image-${box.imageSha256.slice(0, 32)}`;
    const node: NodeConfig = { name: `${box.prefix}-node-1`, role: "worker", vcpus: 1, memoryMiB: 128, diskGiB: 1 };
    const imageScripts = (stack: string, host: LibvirtHostSettings = TEST_HOST) => {
        const input = { stack, hypervisor: hypervisor(), recipe: recipe(), host };
        return { create: renderNodeImageScript(input), delete: renderNodeImageDeleteScript(input) };
    };
    const vmScripts = (n: NodeConfig, nodeImage?: string) => {
        const h = hypervisor();
        const cloudInit = renderCloudInit({ node: n, hypervisor: h, sshUser: "ubuntu", sshPublicKey: TEST_PUBLIC_KEY, kernelArgs: [] });
        return {
            create: renderCreateScript({ stack: "test", node: n, hypervisor: h, image: { url: box.imageUrl, sha256: box.imageSha256 }, cloudInit, host: TEST_HOST, nodeImage }),
            delete: renderDeleteScript({ stack: "test", node: n, hypervisor: h, host: TEST_HOST }),
        };
    };
    const bash = (script: string) => run("bash", ["-c", script]);
    /** Runs a script as Pulumi's local Command would; `pidFile` gets the pid of its process group (setsid's session leader). */
    const runScript = (script: string, pidFile?: string): Promise<Run> => {
        const file = path.join(box.scratch("script"), "run.sh");
        fs.writeFileSync(file, script);
        return box.command(pidFile ? `echo $$ >${pidFile} && exec bash ${file}` : `bash ${file}`);
    };
    const domid = () => virsh("domid", builder()).stdout.trim();
    /** Removes a domain named like the builder without the scripts (LibvirtSandbox.forceRemove knows only the suite's prefix). */
    const removeBuilderDomain = () => {
        if (box.state(builder()) === "") return;
        if (box.state(builder()) !== "shut off") virsh("destroy", builder());
        virsh("undefine", builder(), "--nvram");
    };
    /** Stands in for the builder's guest: once the builder runs (another than `stale`), it writes `verdict` on the result disk and powers off. */
    const guest = async (verdict: string | undefined, seen: { xml?: string; userData?: string } = {}, stale?: string) => {
        const started = () => box.state(builder()) === "running" && domid() !== stale;
        for (let i = 0; i < 240 && !started(); i++) await sleep(500);
        assert.ok(started(), "the builder was started");
        seen.xml = virsh("dumpxml", builder()).stdout;
        seen.userData = run("isoinfo", ["-i", box.volumePath(`${image()}.seed`), "-R", "-x", "/user-data"]).stdout;
        if (verdict === undefined) return;
        const file = path.join(box.scratch("verdict"), "result");
        fs.writeFileSync(file, Buffer.concat([Buffer.from(`${verdict}\n`), Buffer.alloc(1024 * 1024 - verdict.length - 1)]));
        const up = virsh("vol-upload", "--pool", box.pool, `${image()}.result`, file);
        assert.strictEqual(up.status, 0, up.stderr);
        assert.strictEqual(virsh("destroy", builder()).status, 0);
    };
    const build = async (stack: string, verdict: string | undefined, seen: { xml?: string; userData?: string } = {}, host = TEST_HOST, stale?: string) =>
        (await Promise.all([runScript(imageScripts(stack, host).create), guest(verdict, seen, stale)]))[0];
    const ok = () => `oslo-mesh-node-image ok ${image()}`;

    let leftBuilder = false;
    before(function () {
        box.setUp(this);
    });
    after(() => {
        box.cleanUp("vps.nodeimage", (domains) => {
            for (const d of domains) bash(vmScripts({ ...node, name: d }).delete);
            if (box.state(builder())) {
                leftBuilder = true;
                removeBuilderDomain();
            }
            for (const stack of ["test", "other"]) bash(imageScripts(stack).delete);
        });
        // The build's lock per pool and image (libvirt-node-image.sh build_lock); no run is left to hold it.
        if (box.dir) {
            const key = sha256(`${LIBVIRT_URI}\n${box.pool}\n${image()}\n`).slice(0, 16);
            for (const dir of ["/run/lock", process.env.XDG_RUNTIME_DIR ?? "/tmp"]) fs.rmSync(path.join(dir, `oslo-mesh-node-image-${key}.lock`), { force: true });
        }
        box.tearDown();
        assert.ok(!leftBuilder, "no builder is left behind");
    });

    it("builds: the builder gets the image disk on the verified base image, the seed and the result disk, is waited for until it powers off, and its disk becomes the image", async () => {
        const seen: { xml?: string; userData?: string } = {};
        const r = await build("test", ok(), seen);
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(r.stdout.trim().split("\n").pop(), `node-image=${image()}`);
        assert.match(r.stderr, /waiting up to 90s for it to power off/);
        // The builder as the guest saw it.
        const xml = seen.xml!;
        assert.match(xml, new RegExp(`<oslo-mesh:node-image xmlns:oslo-mesh="${METADATA_NAMESPACE.replace(/[./]/g, "\\$&")}" image="${image()}" base="${baseVolume()}"/>`));
        // (A running domain's XML adds index='n' to each <source>.)
        assert.match(xml, new RegExp(`<source file='[^']*/${image()}'[^>]*/>[\\s\\S]*?<target dev='vda' bus='virtio'/>`));
        assert.match(xml, new RegExp(`<disk type='file' device='cdrom'>[\\s\\S]*?<source file='[^']*/${image()}\\.seed'`));
        assert.match(xml, new RegExp(`<source file='[^']*/${image()}\\.result'[^>]*/>[\\s\\S]*?<serial>oslo-mesh-result</serial>`));
        assert.ok(!/<interface /.test(xml), "no network in the tests (user-mode NAT on hypervisors)");
        assert.match(seen.userData!, /^#cloud-config\n/);
        assert.match(seen.userData!, /systemctl[\s\S]*start[\s\S]*--no-block[\s\S]*oslo-mesh-node-image\.service/);
        assert.ok(seen.userData!.includes(Buffer.from(recipe().install).toString("base64")), "the install script is in the seed");
        // What is left: the base image, the image (a copy-on-write child of it), the stack's hold.
        assert.deepStrictEqual(box.volumes(), [baseVolume(), image(), holdVolume("test", image())].sort());
        assert.strictEqual(box.state(builder()), "", "the builder is gone");
        const info = JSON.parse(run("qemu-img", ["info", "-U", "--output=json", box.volumePath(image())]).stdout);
        assert.match(info["backing-filename"], new RegExp(`${baseVolume()}$`));
        assert.strictEqual(info["virtual-size"], 1024 ** 3);
    });

    it("a second run finds the image complete and builds nothing; another stack only takes its own hold", async () => {
        for (const stack of ["test", "other"]) {
            const r = await runScript(imageScripts(stack).create);
            assert.strictEqual(r.status, 0, r.stderr);
            assert.match(r.stderr, /the node image \S+ is in pool/);
            assert.ok(!/building/.test(r.stderr));
        }
        assert.deepStrictEqual(box.volumes(), [baseVolume(), image(), holdVolume("other", image()), holdVolume("test", image())].sort());
    });

    it("a node's disk backs onto the node image, and its mark names it; without the image a VM falls back to the base image and says so", () => {
        const r = bash(vmScripts(node, image()).create);
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(box.diskChain(node.name).backing, box.volumePath(image()));
        assert.match(virsh("metadata", node.name, METADATA_NAMESPACE).stdout, new RegExp(`image="${image()}"`));
        const other = { ...node, name: `${box.prefix}-node-2` };
        const fallback = bash(vmScripts(other, "oslo-mesh-node-00000000000000000000000000000000").create);
        assert.strictEqual(fallback.status, 0, fallback.stderr);
        assert.match(fallback.stderr, /has no complete node image oslo-mesh-node-0{32}: the disk comes from the base image, and node preparation installs everything/);
        assert.strictEqual(box.diskChain(other.name).backing, box.volumePath(baseVolume()));
        assert.strictEqual(bash(vmScripts(other).delete).status, 0);
    });

    it("releasing: the image stays while a disk or another stack's hold uses it, and goes (with its base image) with the last", () => {
        let r = bash(imageScripts("test").delete);
        assert.strictEqual(r.status, 0, r.stderr);
        assert.ok(box.volumes().includes(image()), "node-1's disk and the other stack still use it");
        r = bash(vmScripts(node).delete);
        assert.strictEqual(r.status, 0, r.stderr);
        assert.ok(box.volumes().includes(image()), "the other stack still holds it");
        r = bash(imageScripts("other").delete);
        assert.strictEqual(r.status, 0, r.stderr);
        assert.match(r.stderr, /removing the node image \S+: no stack holds it and no disk uses it/);
        assert.deepStrictEqual(box.volumes(), []);
        assert.strictEqual(bash(imageScripts("other").delete).status, 0, "releasing again succeeds");
    });

    it("a builder that reports a failure fails the run with its words, and leaves nothing", async () => {
        const r = await build("test", `oslo-mesh-node-image failed ${image()}: E: Unable to locate package containerd|`);
        assert.notStrictEqual(r.status, 0);
        assert.match(r.stderr, /the builder did not prepare the image: oslo-mesh-node-image failed \S+: E: Unable to locate package containerd/);
        assert.strictEqual(box.state(builder()), "");
        assert.deepStrictEqual(box.volumes(), []);
    });

    it("a builder that never powers off is stopped after the timeout, and nothing is left", async () => {
        const r = await build("test", undefined, {}, { ...TEST_HOST, buildTimeoutSeconds: 6 });
        assert.notStrictEqual(r.status, 0);
        assert.match(r.stderr, /did not power off within 6s/);
        assert.strictEqual(box.state(builder()), "");
        assert.deepStrictEqual(box.volumes(), []);
    });

    it("what a killed run left (a running builder, the half-made image) is removed and the image built again", async () => {
        const pidFile = path.join(box.scratch("pid"), "pid");
        const killed = runScript(imageScripts("test").create, pidFile);
        for (let i = 0; i < 240 && box.state(builder()) !== "running"; i++) await sleep(500);
        assert.strictEqual(box.state(builder()), "running");
        process.kill(-Number(fs.readFileSync(pidFile, "utf8")), "SIGKILL"); // the run's own process group
        await killed;
        assert.ok(box.volumes().includes(`${image()}.partial`), "the half-made image is under its mark");
        const r = await build("test", ok(), {}, TEST_HOST, domid());
        assert.match(r.stderr, /building the node image/);
        assert.strictEqual(r.status, 0, r.stderr);
        assert.deepStrictEqual(box.volumes(), [baseVolume(), image(), holdVolume("test", image())].sort());
        assert.strictEqual(bash(imageScripts("test").delete).status, 0);
        assert.deepStrictEqual(box.volumes(), []);
    });

    it("a domain with the builder's name that is not the builder is never touched", async () => {
        box.defineStranger(builder(), `${box.prefix}-stranger.qcow2`);
        try {
            const r = await runScript(imageScripts("test").create);
            assert.notStrictEqual(r.status, 0);
            assert.match(r.stderr, /is not the builder of \S+ \(no such <oslo-mesh:node-image> mark in its <metadata>\): refusing to touch it/);
            assert.strictEqual(box.state(builder()), "running", "the stranger still runs");
        } finally {
            removeBuilderDomain();
            box.forceRemove(undefined, [`${box.prefix}-stranger.qcow2`]);
            bash(imageScripts("test").delete);
        }
        assert.deepStrictEqual(box.volumes(), []);
    });
});
