// One node of the cluster: a KVM VM made through libvirt, or an existing VPS from the
// inventory. Either way the same outputs come out, so nothing downstream knows the driver.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { bashCommand } from "../shared/script";
import { NodeImage } from "./nodeImage";
import { recipeDigest, vmRecipe } from "./recipe";
import { CloudInit, HypervisorConfig, NodeConfig, VmImage, renderCloudInit } from "./render";
import { HYPERVISOR_SETTINGS, parseCreatedIp, renderCreateScript, renderDeleteScript } from "./scripts";

/** How to reach a node (or a hypervisor) over SSH; `privateKey` is a secret, absent when the SSH agent is used. */
export interface SshConnection {
    readonly host: string;
    readonly user: string;
    readonly port: number;
    readonly privateKey?: string;
}

export interface KvmVpsArgs {
    /** The Pulumi stack: libvirt marks the VM and names its volumes with it. */
    readonly stack: string;
    /** The node as configured in `oslo-mesh:nodes`. */
    readonly node: NodeConfig;
    /** libvirt: the program creates the VM; inventory: the VPS exists already. */
    readonly driver: "libvirt" | "inventory";
    /** The hypervisor that hosts the VM (libvirt driver only). */
    readonly hypervisor?: HypervisorConfig;
    /** The base cloud image, where its sha256 comes from, and the kernel arguments it boots with. */
    readonly image: VmImage & { readonly kernelArgs: ReadonlyArray<string> };
    /** The admin account on the node and on the hypervisor. */
    readonly ssh: { readonly user: string; readonly publicKey: string; readonly privateKey?: pulumi.Output<string> };
    /**
     * The hypervisor's node image (libvirt driver): the VM's disk backs onto it and the VM is made
     * once it exists. Not part of what replaces the VM: a new image serves new and replaced VMs.
     */
    readonly nodeImage?: NodeImage;
}

export class KvmVps extends pulumi.ComponentResource {
    /** The node's name, also its hostname and the libvirt domain's name. */
    readonly nodeName: string;
    readonly role: NodeConfig["role"];
    /** The admin user the node is reached as over SSH. */
    readonly sshUser: string;
    /** Public address: static from the config, or the DHCP lease the VM got. */
    readonly publicIp: pulumi.Output<string>;
    /** Address for cluster traffic (the public one unless privateIp is set). */
    readonly privateIp: pulumi.Output<string>;
    /** SSH to the node as the admin user; secret when it holds the private key. */
    readonly connection: pulumi.Output<SshConnection>;
    /** The cloud-init seed the VM boots with (libvirt driver). */
    readonly cloudInit?: CloudInit;
    /**
     * Changes whenever the machine is replaced (the VM command's id; the address for an
     * inventory node). A replaced VM keeps its name and static address, so whatever must run
     * again on a new machine (preparing and joining it) takes this among its triggers.
     */
    readonly machineId: pulumi.Output<string>;
    /**
     * What the machine is made from, as a value known at preview: `sha256:` of the VM's recipe
     * (for an inventory node, its address). It changes exactly when the machine is replaced.
     */
    readonly recipeDigest: string;
    /**
     * `recipeDigest` carrying the VM as a dependency: a step that takes it among its `triggers`
     * is, for Pulumi's engine, a dependent of the VM that the VM's replacement deletes first and
     * re-creates after it (roll/machine.ts).
     */
    readonly recipe: pulumi.Output<string>;

    constructor(name: string, args: KvmVpsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("oslo-mesh:vps:KvmVps", name, {}, opts);
        const { node } = args;
        this.nodeName = node.name;
        this.role = node.role;
        this.sshUser = args.ssh.user;

        let publicIp: pulumi.Output<string>;
        let machineId: pulumi.Output<string>;
        let recipe: pulumi.Output<string>;
        if (args.driver === "inventory") {
            if (!node.ip) throw new Error(`node ${node.name}: the inventory driver needs its ip`);
            publicIp = pulumi.output(node.ip);
            machineId = pulumi.output(`inventory:${node.ip}`);
            this.recipeDigest = `inventory:${node.ip}`;
            recipe = pulumi.output(this.recipeDigest);
        } else {
            const hypervisor = args.hypervisor;
            if (!hypervisor) throw new Error(`node ${node.name}: the libvirt driver needs a hypervisor`);
            this.cloudInit = renderCloudInit({ node, hypervisor, sshUser: args.ssh.user, sshPublicKey: args.ssh.publicKey, kernelArgs: args.image.kernelArgs });
            const sudo = hypervisor.host !== undefined && hypervisor.user !== "root";
            const host = HYPERVISOR_SETTINGS;
            const script = { stack: args.stack, node, hypervisor, host };
            const create = bashCommand(renderCreateScript({ ...script, image: args.image, cloudInit: this.cloudInit, nodeImage: args.nodeImage?.volume }), { sudo });
            const del = bashCommand(renderDeleteScript(script), { sudo });
            // What the VM is made from: a change to it replaces the VM, the old one first (same name, same address).
            const triggers = [vmRecipe({ node, hypervisor, host, image: args.image, cloudInit: this.cloudInit })];
            this.recipeDigest = recipeDigest(triggers[0]);
            // The VM waits for what the node waits for (the rollout gate, index.ts): a
            // component's dependsOn does not reach its children. And it waits for its hypervisor's node image.
            const childOpts: pulumi.CustomResourceOptions = { parent: this, deleteBeforeReplace: true, dependsOn: vmDependsOn(opts?.dependsOn, args.nodeImage) };
            const vm =
                hypervisor.host === undefined
                    ? new command.local.Command(`${name}-vm`, { create, delete: del, triggers }, childOpts)
                    : new command.remote.Command(
                          `${name}-vm`,
                          {
                              connection: { host: hypervisor.host, user: hypervisor.user, port: hypervisor.port, privateKey: args.ssh.privateKey, dialErrorLimit: 20 },
                              create,
                              delete: del,
                              triggers,
                          },
                          childOpts,
                      );
            machineId = vm.id;
            const digest = this.recipeDigest;
            recipe = vm.urn.apply(() => digest);
            // A static address is known from the config; a DHCP one only once the VM has its lease.
            publicIp = hypervisor.bridge ? pulumi.output(node.ip!) : vm.stdout.apply(parseCreatedIp);
        }
        this.publicIp = publicIp;
        this.machineId = machineId;
        this.recipe = recipe;
        this.privateIp = node.privateIp ? pulumi.output(node.privateIp) : publicIp;
        const privateKey = args.ssh.privateKey;
        this.connection = pulumi
            .all([publicIp, privateKey])
            .apply(([host, key]) => ({ host, user: args.ssh.user, port: 22, ...(key === undefined ? {} : { privateKey: key }) }));
        this.registerOutputs({ publicIp: this.publicIp, privateIp: this.privateIp });
    }
}

/** What a VM waits for: its node's dependsOn (the rollout gate, a promise of it) and the node image it is cloned from. */
function vmDependsOn(given: pulumi.ComponentResourceOptions["dependsOn"], nodeImage: NodeImage | undefined): pulumi.CustomResourceOptions["dependsOn"] {
    if (nodeImage === undefined) return given;
    if (given === undefined) return [nodeImage];
    if (Array.isArray(given)) return [...given, nodeImage];
    if (pulumi.Output.isInstance(given)) throw new Error("a node's dependsOn as an Output is not supported; pass an array or a promise of one");
    if (pulumi.Resource.isInstance(given)) return [given, nodeImage];
    const pending = given as Promise<pulumi.Input<pulumi.Resource>[] | pulumi.Resource>;
    const both: Promise<pulumi.Input<pulumi.Resource>[]> = pending.then((g) => [...(Array.isArray(g) ? g : [g]), nodeImage]);
    return both;
}
