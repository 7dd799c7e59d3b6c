// KVM NVMe VPS nodes: one KvmVps per configured node, placed on the hypervisors.
import * as pulumi from "@pulumi/pulumi";
import { LoadedConfig } from "../../stacks/load";
import { KvmVps } from "./kvmVps";
import { NodeImage } from "./nodeImage";
import { placeNodes } from "./placement";

export { KvmVps, KvmVpsArgs, SshConnection } from "./kvmVps";
export { NodeImage } from "./nodeImage";

/**
 * Every node of the stack, in config order. Resource names are the node names: renaming a node
 * replaces it. With `nodeImage`, each hypervisor that hosts nodes (libvirt driver) gets one node
 * image (`<hypervisor>-node-image`), built by running `install` once, and its nodes are cloned from it.
 */
export function createNodes(
    config: Pick<LoadedConfig, "nodes" | "vps" | "ssh"> & Partial<Pick<LoadedConfig, "stack">>,
    opts?: pulumi.ComponentResourceOptions,
    nodeImage?: { readonly install: string },
): KvmVps[] {
    const stack = config.stack ?? pulumi.getStack();
    const placements =
        config.vps.driver === "libvirt"
            ? placeNodes(config.nodes, config.vps.hypervisors)
            : config.nodes.map((node) => ({ node, hypervisor: undefined }));
    const images = new Map<string, NodeImage>();
    if (nodeImage && config.vps.driver === "libvirt") {
        for (const hv of config.vps.hypervisors.filter((h) => placements.some((p) => p.hypervisor?.name === h.name && !p.node.image))) {
            const recipe = { base: config.vps.image, kernelArgs: config.vps.image.kernelArgs, install: nodeImage.install };
            images.set(hv.name, new NodeImage(`${hv.name}-node-image`, { stack, hypervisor: hv, recipe, privateKey: config.ssh.privateKey }, opts));
        }
    }
    return placements.map(
        ({ node, hypervisor }) =>
            new KvmVps(
                node.name,
                {
                    stack,
                    node,
                    driver: config.vps.driver,
                    hypervisor,
                    image: imageOf(node, config.vps.image),
                    ssh: config.ssh,
                    // A node with an image of its own (nodes[].image) is not cloned from the stack image's node image.
                    nodeImage: hypervisor && !node.image ? images.get(hypervisor.name) : undefined,
                },
                opts,
            ),
    );
}

/** A node's own image (nodes[].image) or the stack's, booted with the stack's kernel arguments. */
function imageOf(node: LoadedConfig["nodes"][number], image: LoadedConfig["vps"]["image"]): LoadedConfig["vps"]["image"] {
    return node.image ? { ...node.image, kernelArgs: image.kernelArgs } : image;
}
