// createNodes with node images, under Pulumi's mock runtime: which hypervisors get one, and how
// the nodes use it.
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { createNodes } from "../components/vps";
import { MockRecorder, settled, startMockRuntime } from "../plan/mocks";
import { parsedConfig, stackFileConfig } from "./harness";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nnode-image-mock\n-----END OPENSSH PRIVATE KEY-----\n";
const INSTALL = "#!/usr/bin/env bash\nset -euo pipefail\necho install\n";

describe("vps: node images under mocks", () => {
    let recorder: MockRecorder;
    beforeEach(async () => {
        recorder = await startMockRuntime({ stack: "test", preview: true });
    });
    const builds = () => recorder.resources.filter((r) => r.name.endsWith("-node-image-build"));

    it("prod: one image per hypervisor that hosts nodes, built over SSH with the admin key as a secret; each VM's disk backs onto its hypervisor's", async () => {
        const cfg = parsedConfig("prod", stackFileConfig("prod"));
        // A fourth hypervisor with no node gets no image.
        const hypervisors = [...cfg.vps.hypervisors, { ...cfg.vps.hypervisors[0], name: "osl-hv-4", host: "203.0.113.5" }];
        createNodes({ ...cfg, vps: { ...cfg.vps, hypervisors }, nodes: cfg.nodes.map((n, i) => ({ ...n, hypervisor: `osl-hv-${(i % 3) + 1}` })), ssh: { ...cfg.ssh, privateKey: pulumi.secret(KEY) } }, undefined, { install: INSTALL });
        await settled();
        assert.deepStrictEqual(recorder.byType("oslo-mesh:vps:NodeImage").map((r) => r.name).sort(), ["osl-hv-1-node-image", "osl-hv-2-node-image", "osl-hv-3-node-image"]);
        for (const b of builds()) {
            assert.strictEqual(b.type, "command:remote:Command");
            assert.ok(JSON.stringify(b.inputs.connection).includes("1b47061264138c4ac30d75fd1eb44270"), "the connection is secret");
            assert.match(String(b.inputs.create), /readonly BUILDER_NETWORK='user'/);
            assert.match(String(b.inputs.create), /readonly HOLD_VOLUME='oslo-mesh\.test\.node-image-hold\.oslo-mesh-node-[0-9a-f]{32}'/);
            assert.match(String(b.inputs.delete), /prune_images/);
        }
        const images = new Set(builds().map((b) => (b.inputs.triggers as Array<{ image: string }>)[0].image));
        assert.strictEqual(images.size, 1, "the same recipe is the same image on every hypervisor");
        for (const vm of recorder.resources.filter((r) => r.name.endsWith("-vm"))) assert.match(String(vm.inputs.create), new RegExp(`readonly NODE_IMAGE='${[...images][0]}'`));
    });

    it("dev: the laptop's libvirt builds its image locally", async () => {
        const cfg = parsedConfig("dev", stackFileConfig("dev"));
        createNodes({ ...cfg, ssh: { ...cfg.ssh, privateKey: undefined } }, undefined, { install: INSTALL });
        await settled();
        assert.deepStrictEqual(builds().map((b) => [b.name, b.type]), [["local-node-image-build", "command:local:Command"]]);
    });

    it("inventory nodes keep the cloud image path: no image", async () => {
        const cfg = parsedConfig("staging", { ...stackFileConfig("staging"), "oslo-mesh:vps": { driver: "inventory" } });
        createNodes({ ...cfg, ssh: { ...cfg.ssh, privateKey: pulumi.secret(KEY) } }, undefined, { install: INSTALL });
        await settled();
        assert.deepStrictEqual(builds(), []);
    });
});
