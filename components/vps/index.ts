// KVM NVMe VPS nodes: one KvmVps per configured node, placed on the hypervisors.
import * as pulumi from "@pulumi/pulumi";
import { LoadedConfig } from "../../stacks/load";
import { KvmVps } from "./kvmVps";
import { placeNodes } from "./placement";

export { KvmVps, KvmVpsArgs, SshConnection } from "./kvmVps";

/** Every node of the stack, in config order. Resource names are the node names: renaming a node replaces it. */
export function createNodes(
    config: Pick<LoadedConfig, "nodes" | "vps" | "ssh"> & Partial<Pick<LoadedConfig, "stack">>,
    opts?: pulumi.ComponentResourceOptions,
): KvmVps[] {
    const stack = config.stack ?? pulumi.getStack();
    const placements =
        config.vps.driver === "libvirt"
            ? placeNodes(config.nodes, config.vps.hypervisors)
            : config.nodes.map((node) => ({ node, hypervisor: undefined }));
    return placements.map(
        ({ node, hypervisor }) =>
            new KvmVps(node.name, { stack, node, driver: config.vps.driver, hypervisor, image: imageOf(node, config.vps.image), ssh: config.ssh }, opts),
    );
}

/** A node's own image (nodes[].image) or the stack's, booted with the stack's kernel arguments. */
function imageOf(node: LoadedConfig["nodes"][number], image: LoadedConfig["vps"]["image"]): LoadedConfig["vps"]["image"] {
    return node.image ? { ...node.image, kernelArgs: image.kernelArgs } : image;
}
