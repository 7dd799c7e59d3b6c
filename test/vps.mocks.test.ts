// KvmVps and createNodes under Pulumi's mock runtime.
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { MockRecorder, settled, startMockRuntime } from "../plan/mocks";
import { createNodes } from "../components/vps";
import { placeNodes } from "../components/vps/placement";
import { StackConfig } from "../stacks/schema";
import { isSecret, parsedConfig, stackFileConfig, valueOf } from "./harness";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nvps-mock-test\n-----END OPENSSH PRIVATE KEY-----\n";

describe("vps: nodes under mocks", () => {
    let recorder: MockRecorder;
    beforeEach(async () => {
        recorder = await startMockRuntime({
            stack: "test",
            preview: false,
            // What the create script prints: the DHCP lease in dev.
            outputs: ({ type, name }) => (type === "command:local:Command" ? { stdout: `ip=192.168.122.${10 + Number(name.match(/(\d+)-vm$/)?.[1] ?? 0)}\n` } : undefined),
        });
    });

    it("prod: one remote libvirt command per node on its hypervisor, with a secret connection", async () => {
        const cfg = parsedConfig("prod", stackFileConfig("prod"));
        const nodes = createNodes({ ...cfg, ssh: { ...cfg.ssh, privateKey: pulumi.secret(KEY) } });
        await settled();
        assert.deepStrictEqual(recorder.byType("oslo-mesh:vps:KvmVps").map((r) => r.name), cfg.nodes.map((n) => n.name));
        const vms = recorder.byType("command:remote:Command");
        assert.strictEqual(vms.length, 6);
        const hosts = vms.map((r) => (r.inputs.connection as Record<string, unknown>) ?? {});
        for (const r of vms) {
            assert.ok(r.parent && r.parent.endsWith(`::${r.name.replace(/-vm$/, "")}`), "each VM command is its node's child");
            assert.match(String(r.inputs.create), /readonly DOMAIN='prod-[a-z]+-\d'/);
            assert.match(String(r.inputs.delete), /readonly DOMAIN='prod-[a-z]+-\d'/);
            assert.match(String(r.inputs.delete), /flags=\(--managed-save --snapshots-metadata --nvram\)/);
        }
        // The connection carries the private key, so the whole input is a secret.
        assert.ok(hosts.every((c) => JSON.stringify(c).includes("1b47061264138c4ac30d75fd1eb44270")), "connections are secret");
        assert.strictEqual(await valueOf(nodes[0].publicIp), "203.0.113.10");
        assert.strictEqual(await valueOf(nodes[0].machineId), "prod-cp-1-vm-id", "the VM command's id: new on every replacement");
        assert.ok(await isSecret(nodes[0].connection));
        assert.strictEqual((await valueOf(nodes[0].connection)).privateKey, KEY);
    });

    it("dev: local libvirt commands, and the address is the DHCP lease the script printed", async () => {
        const cfg = parsedConfig("dev", stackFileConfig("dev"));
        const nodes = createNodes({ ...cfg, ssh: { ...cfg.ssh, privateKey: undefined } });
        await settled();
        assert.strictEqual(recorder.byType("command:local:Command").length, 3);
        assert.strictEqual(recorder.byType("command:remote:Command").length, 0);
        assert.match(String(recorder.byName("dev-cp-1-vm").inputs.create), /readonly NETWORK_MODE='network'/);
        assert.strictEqual(await valueOf(nodes[0].publicIp), "192.168.122.11");
        const conn = await valueOf(nodes[0].connection);
        assert.deepStrictEqual(conn, { host: "192.168.122.11", user: "ubuntu", port: 22 }, "without a key the SSH agent is used");
        assert.strictEqual(await isSecret(nodes[0].connection), false);
    });

    it("inventory: nothing is created, and the same outputs come out", async () => {
        const cfg = parsedConfig("staging", { ...stackFileConfig("staging"), "oslo-mesh:vps": { driver: "inventory" } });
        const nodes = createNodes({ ...cfg, ssh: { ...cfg.ssh, privateKey: pulumi.secret(KEY) } });
        await settled();
        assert.strictEqual(recorder.resources.filter((r) => r.custom).length, 0);
        assert.strictEqual(recorder.byType("oslo-mesh:vps:KvmVps").length, 3);
        assert.strictEqual(await valueOf(nodes[1].publicIp), "203.0.113.20");
        assert.strictEqual(await valueOf(nodes[1].privateIp), "203.0.113.20");
        assert.ok(await isSecret(nodes[1].connection));
    });
});

describe("harness: the shared mock runtime", () => {
    it("fails on an invoke it does not expect, instead of answering it", async () => {
        const recorder = await startMockRuntime({ stack: "test", preview: false });
        await assert.rejects(pulumi.runtime.invoke("aws:index/getRegion:getRegion", {}));
        assert.deepStrictEqual(recorder.unexpectedInvokes, ["aws:index/getRegion:getRegion"]);
    });

    it("answers kubernetes:yaml:decode with every document of the text", async () => {
        await startMockRuntime({ stack: "test", preview: false });
        const r = await pulumi.runtime.invoke("kubernetes:yaml:decode", { text: "a: 1\n---\nb: 2\n" });
        assert.deepStrictEqual(r.result, [{ a: 1 }, { b: 2 }]);
    });
});

describe("vps: what replaces a VM (triggers)", () => {
    interface Registered {
        readonly triggers: unknown;
        readonly create: string;
        readonly delete: string;
        readonly deleteBeforeReplace: boolean;
        readonly replaceOnChanges: string[];
    }
    /** Registers the nodes of `cfg` under mocks and returns what each VM command was registered with. */
    async function vms(cfg: StackConfig): Promise<Map<string, Registered>> {
        const recorder = await startMockRuntime({ stack: "prod", preview: true });
        const options = new Map<string, { deleteBeforeReplace: boolean; replaceOnChanges: string[] }>();
        const monitor = (require("@pulumi/pulumi/runtime/settings") as { getMonitor: () => any }).getMonitor();
        const register = monitor.registerResource.bind(monitor);
        monitor.registerResource = (req: any, cb: any) => {
            options.set(req.getName(), { deleteBeforeReplace: req.getDeletebeforereplace(), replaceOnChanges: req.getReplaceonchangesList() });
            return register(req, cb);
        };
        createNodes({ ...cfg, stack: "prod", ssh: { ...cfg.ssh, privateKey: pulumi.secret(KEY) } });
        await settled();
        const out = new Map<string, Registered>();
        for (const r of recorder.byType("command:remote:Command")) {
            out.set(r.name.replace(/-vm$/, ""), { triggers: r.inputs.triggers, create: String(r.inputs.create), delete: String(r.inputs.delete), ...options.get(r.name)! });
        }
        return out;
    }
    const prod = () => parsedConfig("prod", stackFileConfig("prod"));
    const withNode = (cfg: StackConfig, name: string, change: (n: StackConfig["nodes"][number]) => void) => {
        change(cfg.nodes.find((n) => n.name === name)!);
        return cfg;
    };

    it("a VM's triggers are exactly what it is made from, and the old VM goes first", async () => {
        const cfg = prod();
        const vm = (await vms(cfg)).get("prod-worker-1")!;
        assert.ok(Array.isArray(vm.triggers) && vm.triggers.length === 1);
        const recipe = (vm.triggers as Array<Record<string, any>>)[0];
        assert.deepStrictEqual(Object.keys(recipe).sort(), ["cloudInit", "diskGiB", "hypervisor", "image", "libvirt", "memoryMiB", "vcpus"]);
        assert.deepStrictEqual([recipe.vcpus, recipe.memoryMiB, recipe.diskGiB], [8, 16384, 160]);
        assert.deepStrictEqual(recipe.image, { url: cfg.vps.image.url, sha256: null });
        assert.deepStrictEqual(Object.keys(recipe.hypervisor).sort(), ["bridge", "host", "name", "network", "pool"]);
        assert.deepStrictEqual(recipe.libvirt, { uri: "qemu:///system", virtType: "kvm", cpu: "host-passthrough", osVariant: "ubuntu20.04" });
        // The seed in the triggers is the one the create script writes.
        for (const text of Object.values(recipe.cloudInit as Record<string, string>)) {
            assert.ok(vm.create.includes(`'${text.replace(/'/g, `'\\''`)}'`), "the create script carries the same seed");
        }
        assert.match(recipe.cloudInit.networkConfig, /203\.0\.113\.20\/24/);
        assert.strictEqual(vm.deleteBeforeReplace, true, "the old VM is deleted before its replacement is created");
    });

    const changes: Array<[string, (c: StackConfig) => StackConfig]> = [
        ["vCPUs", (c) => withNode(c, "prod-worker-1", (n) => (n.vcpus = 12))],
        ["memory", (c) => withNode(c, "prod-worker-1", (n) => (n.memoryMiB = 24576))],
        ["disk", (c) => withNode(c, "prod-worker-1", (n) => (n.diskGiB = 200))],
        ["image URL", (c) => ((c.vps.image.url = "https://cloud-images.ubuntu.com/releases/focal/release-20240101/ubuntu-20.04-server-cloudimg-amd64.img"), c)],
        ["pinned image sha256", (c) => ((c.vps.image.sha256 = "a".repeat(64)), c)],
        ["cloud-init: the admin key", (c) => ((c.ssh.publicKey = c.ssh.publicKey.replace(/platform-team/, "someone-else")), c)],
        ["cloud-init: kernel arguments", (c) => ((c.vps.image.kernelArgs = [...c.vps.image.kernelArgs, "quiet"]), c)],
        ["cloud-init: its address", (c) => withNode(c, "prod-worker-1", (n) => (n.ip = "203.0.113.99"))],
        ["cloud-init: the nameservers", (c) => ((c.vps.hypervisors.forEach((h) => (h.nameservers = ["192.0.2.53"])), c))],
        ["the hypervisor (an explicit move)", (c) => withNode(c, "prod-worker-1", (n) => (n.hypervisor = c.vps.hypervisors.find((h) => h.name !== placedOn(c, "prod-worker-1"))!.name))],
        ["the hypervisor's pool", (c) => ((c.vps.hypervisors.forEach((h) => (h.pool = "nvme2"))), c)],
        ["the hypervisor's bridge", (c) => ((c.vps.hypervisors.forEach((h) => (h.bridge = "br1"))), c)],
        ["the hypervisor's address", (c) => ((c.vps.hypervisors.forEach((h) => (h.host = `${h.host}0`))), c)],
    ];
    for (const [what, change] of changes) {
        it(`${what} changed: the VM's triggers change (a replacement)`, async () => {
            const before = (await vms(prod())).get("prod-worker-1")!;
            const after = (await vms(change(prod()))).get("prod-worker-1")!;
            assert.notDeepStrictEqual(after.triggers, before.triggers);
        });
    }

    const noChanges: Array<[string, (c: StackConfig) => StackConfig]> = [
        ["the SSH user and port of the hypervisor changed", (c) => ((c.vps.hypervisors.forEach((h) => ((h.user = "deploy"), (h.port = 2222)))), c)],
        ["the checksum file's URL changed (same image)", (c) => ((c.vps.image.checksumUrl = "https://mirror.example/focal/SHA256SUMS"), c)],
        ["another node added", (c) => ((c.nodes.push({ name: "prod-worker-4", role: "worker", ip: "203.0.113.23", vcpus: 8, memoryMiB: 16384, diskGiB: 160 })), c)],
        ["a hypervisor added", (c) => ((c.vps.hypervisors.push({ ...c.vps.hypervisors[0], name: "osl-hv-4", host: "203.0.113.5" })), c)],
        ["the node's role changed", (c) => withNode(c, "prod-worker-1", (n) => (n.role = "control-plane"))],
    ];
    for (const [what, change] of noChanges) {
        it(`${what}: the VM's triggers stay (no replacement)`, async () => {
            const before = (await vms(prod())).get("prod-worker-1")!;
            const after = (await vms(change(prod()))).get("prod-worker-1")!;
            assert.deepStrictEqual(after.triggers, before.triggers);
        });
    }

    it("new wording of the delete or create script changes the commands, not the triggers (an update in place)", async () => {
        const before = (await vms(prod())).get("prod-worker-1")!;
        // The module object itself: the render reads the script files through it at call time.
        const nodeFs = require("fs") as { readFileSync: (...a: unknown[]) => unknown };
        const read = nodeFs.readFileSync;
        const reworded = (file: string, text: string) => (/libvirt-(create|delete)\.sh$/.test(file) ? text.replace("set -euo pipefail\n", "set -euo pipefail\n# reworded\n") : text);
        nodeFs.readFileSync = (...args: unknown[]) => {
            const out = read(...args);
            return typeof out === "string" ? reworded(String(args[0]), out) : out;
        };
        let after: Registered;
        try {
            after = (await vms(prod())).get("prod-worker-1")!;
        } finally {
            nodeFs.readFileSync = read;
        }
        assert.notStrictEqual(after.delete, before.delete);
        assert.notStrictEqual(after.create, before.create);
        assert.deepStrictEqual(after.triggers, before.triggers);
    });
});

function placedOn(cfg: StackConfig, node: string): string {
    return placeNodes(cfg.nodes, cfg.vps.hypervisors).find((p) => p.node.name === node)!.hypervisor.name;
}
