// KvmVps and createNodes under Pulumi's mock runtime.
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { MockRecorder, settled, startMockRuntime } from "../plan/mocks";
import { createNodes } from "../components/vps";
import { placeNodes } from "../components/vps/placement";
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
            assert.match(String(r.inputs.delete), /virsh_ undefine "\$\{DOMAIN\}" --remove-all-storage/);
        }
        // The connection carries the private key, so the whole input is a secret.
        assert.ok(hosts.every((c) => JSON.stringify(c).includes("1b47061264138c4ac30d75fd1eb44270")), "connections are secret");
        assert.strictEqual(await valueOf(nodes[0].publicIp), "203.0.113.10");
        assert.ok(await isSecret(nodes[0].connection));
        assert.strictEqual((await valueOf(nodes[0].connection)).privateKey, KEY);
    });

    it("control planes land on three different hypervisors", () => {
        const cfg = parsedConfig("prod", stackFileConfig("prod"));
        const placed = placeNodes(cfg.nodes, cfg.vps.hypervisors);
        const cpHosts = placed.filter((p) => p.node.role === "control-plane").map((p) => p.hypervisor.name);
        assert.deepStrictEqual([...cpHosts].sort(), ["osl-hv-1", "osl-hv-2", "osl-hv-3"]);
        const counts = new Map<string, number>();
        for (const p of placed) counts.set(p.hypervisor.name, (counts.get(p.hypervisor.name) ?? 0) + 1);
        assert.deepStrictEqual([...counts.values()], [2, 2, 2], "workers fill the hypervisors evenly");
    });

    it("an explicit hypervisor is kept, and the other control planes avoid it", () => {
        const cfg = parsedConfig("prod", stackFileConfig("prod"));
        cfg.nodes[1].hypervisor = "osl-hv-1";
        const placed = placeNodes(cfg.nodes, cfg.vps.hypervisors);
        const cp = (name: string) => placed.find((p) => p.node.name === name)!.hypervisor.name;
        assert.strictEqual(cp("prod-cp-2"), "osl-hv-1");
        assert.notStrictEqual(cp("prod-cp-1"), "osl-hv-1");
        assert.notStrictEqual(cp("prod-cp-3"), "osl-hv-1");
        assert.notStrictEqual(cp("prod-cp-1"), cp("prod-cp-3"));
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
