// The node image of one hypervisor's pool: the base image with the node preparation done once,
// by a builder VM, so that every node of that hypervisor is cloned from it and its own
// preparation only configures. Nodes of the inventory driver keep the cloud image path.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { bashCommand } from "../shared/script";
import { NodeImageRecipe, nodeImageVolume, renderNodeImageDeleteScript, renderNodeImageScript } from "./nodeImageRender";
import { HypervisorConfig } from "./render";
import { HYPERVISOR_SETTINGS, LibvirtHostSettings } from "./scripts";

export interface NodeImageArgs {
    /** The Pulumi stack: its hold on the (shared) image carries its name. */
    readonly stack: string;
    /** The hypervisor and pool the image lives in. */
    readonly hypervisor: HypervisorConfig;
    /** What the image is made from: base image, kernel arguments, the install script. */
    readonly recipe: NodeImageRecipe;
    /** The admin's private key for the hypervisor (the SSH agent when absent). */
    readonly privateKey?: pulumi.Output<string>;
    /** How libvirt runs on the hypervisor (the tests change it). */
    readonly host?: LibvirtHostSettings;
}

export class NodeImage extends pulumi.ComponentResource {
    /** The image's volume in the pool, known at preview: node disks back onto it. */
    readonly volume: string;

    constructor(name: string, args: NodeImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("oslo-mesh:vps:NodeImage", name, {}, opts);
        const hv = args.hypervisor;
        this.volume = nodeImageVolume(args.recipe);
        const script = { stack: args.stack, hypervisor: hv, recipe: args.recipe, host: args.host ?? HYPERVISOR_SETTINGS };
        const sudo = hv.host !== undefined && hv.user !== "root";
        const create = bashCommand(renderNodeImageScript(script), { sudo });
        const del = bashCommand(renderNodeImageDeleteScript(script), { sudo });
        // Another recipe is another image: built beside the old one, whose hold goes afterwards
        // (the old image stays while nodes' disks back onto it).
        const triggers = [{ image: this.volume, hypervisor: { name: hv.name, host: hv.host ?? null, pool: hv.pool } }];
        const childOpts: pulumi.CustomResourceOptions = { parent: this };
        if (hv.host === undefined) {
            new command.local.Command(`${name}-build`, { create, delete: del, triggers }, childOpts);
        } else {
            new command.remote.Command(
                `${name}-build`,
                { connection: { host: hv.host, user: hv.user, port: hv.port, privateKey: args.privateKey, dialErrorLimit: 20 }, create, delete: del, triggers },
                childOpts,
            );
        }
        this.registerOutputs({ volume: this.volume });
    }
}
