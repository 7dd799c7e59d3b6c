// The node image's builder from the inside, where a blank test disk cannot take us: its seed is a
// cloud-config that cloud-init's own schema accepts, its scripts are shellcheck-clean, and its
// build script is executed in a sandbox (fake cloud-init, apt-get and systemctl; a file for the
// result disk): the verdict the hypervisor reads, the identity it wipes, the power-off either way.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as jsyaml from "js-yaml";
import { renderNodeImageInstall } from "../components/kubernetes/render";
import { renderScript } from "../components/shared/script";
import { NodeImageRecipe, nodeImageVolume, renderBuilderCloudInit } from "../components/vps/nodeImageRender";
import { parsedConfig, stackFileConfig } from "./harness";
import { requireOrSkip, run } from "./libvirt";
import { FAKEBIN } from "./kubernetes.sandbox";

const BUILD_SCRIPT = path.join(__dirname, "..", "components", "vps", "node-image-build.sh");

describe("vps: the node image builder's seed and build script", () => {
    const cfg = parsedConfig("prod", stackFileConfig("prod"));
    const recipe: NodeImageRecipe = { base: cfg.vps.image, kernelArgs: cfg.vps.image.kernelArgs, install: renderNodeImageInstall(cfg.kubernetes) };
    const volume = nodeImageVolume(recipe);
    const seed = renderBuilderCloudInit(recipe, volume);
    const userData = jsyaml.load(seed.userData) as { write_files: Array<{ path: string; content: string; permissions: string; encoding?: string }>; runcmd: string[][]; users?: unknown };
    /** A file of the seed as cloud-init writes it (write_files decodes `encoding: b64`). */
    const file = (p: string) => {
        const f = userData.write_files.find((x) => x.path === p)!;
        return { ...f, content: f.encoding === "b64" ? Buffer.from(f.content, "base64").toString("utf8") : f.content };
    };

    it("the seed is a cloud-config cloud-init 22.4 accepts, with the install and build scripts, the unit, and no login for anyone", function () {
        requireOrSkip(this, run("sh", ["-c", "command -v cloud-init"]).status === 0 ? undefined : "cloud-init is not installed (apt-get install cloud-init)");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-seed-"));
        fs.writeFileSync(path.join(dir, "user-data"), seed.userData);
        const r = run("cloud-init", ["schema", "--config-file", path.join(dir, "user-data")]);
        assert.strictEqual(r.status, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /Valid cloud-config/);
        assert.strictEqual(file("/var/lib/oslo-mesh/node-image/install.sh").content, recipe.install, "the same preparation every node runs, with kubeadm's images");
        assert.strictEqual(file("/var/lib/oslo-mesh/node-image/install.sh").permissions, "0700");
        assert.match(file("/etc/systemd/system/oslo-mesh-node-image.service").content, /^After=cloud-final\.service$/m);
        assert.deepStrictEqual(userData.runcmd.slice(-2), [["systemctl", "daemon-reload"], ["systemctl", "start", "--no-block", "oslo-mesh-node-image.service"]]);
        assert.strictEqual(userData.users, undefined, "no user and no key in the image");
        assert.match(seed.metaData, new RegExp(`instance-id: ${volume}`));
        assert.match(seed.networkConfig, /dhcp4: true/);
        assert.ok(file("/etc/default/grub.d/90-oslo-mesh.cfg"), "the kernel arguments (cgroup v1) go into the image, so clones boot with them");
    });

    it("the builder's scripts are shellcheck-clean", function () {
        requireOrSkip(this, run("sh", ["-c", "command -v shellcheck"]).status === 0 ? undefined : "shellcheck is not installed (apt-get install shellcheck)");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-builder-"));
        for (const name of ["install.sh", "build.sh"]) fs.writeFileSync(path.join(dir, name), file(`/var/lib/oslo-mesh/node-image/${name}`).content);
        const r = run("shellcheck", [path.join(dir, "install.sh"), path.join(dir, "build.sh")]);
        assert.strictEqual(r.status, 0, r.stdout);
    });

    describe("the build script, executed", () => {
        let dir: string;
        let root: string;
        const buildScript = (install: string) =>
            renderScript(BUILD_SCRIPT, { ROOT: root, NODE_IMAGE: volume, INSTALL_SCRIPT: install, LOG: path.join(root, "var/log/oslo-mesh/node-image.log"), RESULT_DEVICE: path.join(dir, "result") });
        const exec = (install: string) => {
            const script = path.join(dir, "build.sh");
            fs.writeFileSync(script, buildScript(install));
            return spawnSync("bash", [script], { encoding: "utf8", env: { PATH: `${FAKEBIN}:${process.env.PATH}`, SANDBOX: dir, FAKE_ROOT: root, HOME: dir } });
        };
        const calls = () => fs.readFileSync(path.join(dir, "calls.log"), "utf8").split("\n").filter(Boolean);
        beforeEach(() => {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "oslo-mesh-build-"));
            root = path.join(dir, "root");
            fs.mkdirSync(path.join(root, "etc"), { recursive: true });
            fs.mkdirSync(path.join(root, "var/lib/dbus"), { recursive: true });
            fs.writeFileSync(path.join(root, "etc/machine-id"), "0123456789abcdef0123456789abcdef\n");
            fs.writeFileSync(path.join(root, "var/lib/dbus/machine-id"), "0123456789abcdef0123456789abcdef\n");
            fs.writeFileSync(path.join(dir, "result"), Buffer.alloc(4096));
            fs.writeFileSync(path.join(dir, "calls.log"), "");
        });
        afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

        it("after a good preparation: the instance state, machine id and caches go, the verdict says ok, and the builder powers off", () => {
            fs.writeFileSync(path.join(dir, "install.sh"), "#!/usr/bin/env bash\necho installed\n");
            const r = exec(path.join(dir, "install.sh"));
            assert.strictEqual(r.status, 0, r.stderr);
            assert.strictEqual(fs.readFileSync(path.join(dir, "result"), "utf8").split("\n")[0], `oslo-mesh-node-image ok ${volume}`);
            assert.strictEqual(fs.statSync(path.join(dir, "result")).size, 4096, "written in place on the disk");
            assert.strictEqual(fs.readFileSync(path.join(root, "etc/machine-id"), "utf8"), "", "each clone makes its own machine id");
            assert.ok(!fs.existsSync(path.join(root, "var/lib/dbus/machine-id")));
            assert.deepStrictEqual(calls(), ["cloud-init clean --logs", "apt-get clean", "systemctl poweroff"]);
            assert.match(fs.readFileSync(path.join(root, "var/log/oslo-mesh/node-image.log"), "utf8"), /installed/);
        });

        it("after a failed preparation: the verdict carries the log's tail, nothing is wiped, and the builder powers off too", () => {
            fs.writeFileSync(path.join(dir, "install.sh"), "#!/usr/bin/env bash\necho 'E: Unable to locate package containerd' >&2\nexit 100\n");
            const r = exec(path.join(dir, "install.sh"));
            assert.strictEqual(r.status, 0, r.stderr);
            assert.strictEqual(fs.readFileSync(path.join(dir, "result"), "utf8").split("\n")[0], `oslo-mesh-node-image failed ${volume}: E: Unable to locate package containerd|`);
            assert.match(fs.readFileSync(path.join(root, "etc/machine-id"), "utf8"), /^0123/);
            assert.deepStrictEqual(calls(), ["systemctl poweroff"]);
        });

        it("the seed's build script is this script with the builder's paths", () => {
            const inSeed = file("/var/lib/oslo-mesh/node-image/build.sh").content;
            const expected = renderScript(BUILD_SCRIPT, { ROOT: "", NODE_IMAGE: volume, INSTALL_SCRIPT: "/var/lib/oslo-mesh/node-image/install.sh", LOG: "/var/log/oslo-mesh/node-image.log", RESULT_DEVICE: "/dev/disk/by-id/virtio-oslo-mesh-result" });
            assert.strictEqual(inSeed, expected);
        });
    });
});
