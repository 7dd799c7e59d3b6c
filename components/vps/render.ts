// Pure renders for one VPS node: the cloud-init NoCloud seed (the libvirt scripts are in scripts.ts).
import * as jsyaml from "js-yaml";
import { StackConfig } from "../../stacks/schema";
import { prefixLength } from "../shared/net";

export type NodeConfig = StackConfig["nodes"][number];
export type HypervisorConfig = StackConfig["vps"]["hypervisors"][number];
/** The base cloud image: its URL and where its sha256 comes from (pinned, or the publisher's checksum file). */
export type VmImage = Pick<StackConfig["vps"]["image"], "url" | "sha256" | "checksumUrl">;

export interface CloudInitInput {
    readonly node: Pick<NodeConfig, "name" | "ip">;
    /** The hypervisor that addresses the node; absent for DHCP. */
    readonly hypervisor: HypervisorConfig;
    readonly sshUser: string;
    readonly sshPublicKey: string;
    readonly kernelArgs: ReadonlyArray<string>;
}

export interface CloudInit {
    readonly userData: string;
    readonly metaData: string;
    readonly networkConfig: string;
}

/** The NoCloud seed: hostname, the admin user and key, cgroup v1 kernel arguments, and the network. */
export function renderCloudInit(input: CloudInitInput): CloudInit {
    const args = input.kernelArgs.join(" ");
    const userData = {
        hostname: input.node.name,
        manage_etc_hosts: true,
        users: [
            {
                name: input.sshUser,
                sudo: "ALL=(ALL) NOPASSWD:ALL",
                shell: "/bin/bash",
                lock_passwd: true,
                ssh_authorized_keys: [input.sshPublicKey.trim()],
            },
        ],
        disable_root: true,
        ssh_pwauth: false,
        growpart: { mode: "auto", devices: ["/"] },
        write_files: args
            ? [
                  {
                      path: "/etc/default/grub.d/90-oslo-mesh.cfg",
                      permissions: "0644",
                      content: `GRUB_CMDLINE_LINUX_DEFAULT="\${GRUB_CMDLINE_LINUX_DEFAULT} ${args}"\n`,
                  },
              ]
            : [],
        runcmd: args ? [["update-grub"]] : [],
        // The kubelet of Kubernetes 1.15 needs cgroup v1: reboot into it if the image came up with v2.
        power_state: args ? { mode: "reboot", condition: "test -f /sys/fs/cgroup/cgroup.controllers", message: "rebooting into cgroup v1" } : undefined,
    };
    const ethernet = input.hypervisor.bridge
        ? {
              match: { name: "en*" },
              addresses: [`${input.node.ip}/${prefixLength(input.hypervisor.subnet!)}`],
              gateway4: input.hypervisor.gateway,
              nameservers: { addresses: [...input.hypervisor.nameservers] },
          }
        : { match: { name: "en*" }, dhcp4: true };
    const dump = (o: object) => jsyaml.dump(o, { lineWidth: -1, noRefs: true });
    return {
        userData: "#cloud-config\n" + dump(JSON.parse(JSON.stringify(userData))),
        metaData: dump({ "instance-id": input.node.name, "local-hostname": input.node.name }),
        networkConfig: dump({ version: 2, ethernets: { primary: ethernet } }),
    };
}
