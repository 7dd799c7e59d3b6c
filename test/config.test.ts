// The stack configuration: defaults per environment, and every broken config reported
// with its exact path before anything is created.
import * as assert from "assert";
import { parsedConfig, problemsOf, stackFileConfig } from "./harness";

type Config = Record<string, any>;

/** A deep copy of a committed stack's config, changed by `edit`. */
function edited(stack: string, edit: (c: Config) => void): Config {
    const c = stackFileConfig(stack);
    edit(c);
    return c;
}

describe("stack config: committed stacks", () => {
    for (const stack of ["dev", "staging", "prod"]) {
        it(`${stack} is valid as committed`, () => {
            assert.deepStrictEqual(problemsOf(stack, stackFileConfig(stack)), []);
        });
    }

    it("dev defaults to three nodes on the local libvirt with DHCP", () => {
        const c = parsedConfig("dev", stackFileConfig("dev"));
        assert.strictEqual(c.environment, "dev");
        assert.strictEqual(c.vps.driver, "libvirt");
        assert.deepStrictEqual(c.nodes.map((n) => n.role), ["control-plane", "worker", "worker"]);
        assert.strictEqual(c.vps.hypervisors.length, 1);
        assert.strictEqual(c.vps.hypervisors[0].host, undefined, "dev's hypervisor is this machine");
        assert.strictEqual(c.vps.hypervisors[0].network, "default");
    });

    it("prod defaults to STRICT mTLS, staging to PERMISSIVE", () => {
        assert.strictEqual(parsedConfig("prod", stackFileConfig("prod")).mesh.mtls.mode, "STRICT");
        assert.strictEqual(parsedConfig("staging", stackFileConfig("staging")).mesh.mtls.mode, "PERMISSIVE");
    });

    it("a stack file overrides one nested key and keeps the other defaults", () => {
        const c = parsedConfig("staging", edited("staging", (x) => (x["oslo-mesh:istio"].mixer = { telemetry: { reportBatchMaxEntries: 50 } })));
        assert.strictEqual(c.istio.mixer.telemetry.reportBatchMaxEntries, 50);
        assert.strictEqual(c.istio.mixer.telemetry.reportBatchMaxTime, "1s");
        assert.strictEqual(c.istio.proxy.resources.limits.memory, "1024Mi");
    });

    it("a stack with another name picks its environment from oslo-mesh:environment", () => {
        const c = parsedConfig("prod-eu2", { ...stackFileConfig("prod"), "oslo-mesh:environment": "prod" });
        assert.strictEqual(c.environment, "prod");
        assert.strictEqual(c.mesh.mtls.mode, "STRICT");
    });
});

interface Case {
    readonly what: string;
    readonly stack: string;
    readonly edit: (c: Config) => void;
    /** The stack name to load as, when it differs from the committed file's. */
    readonly as?: string;
    /** The exact problem line, or its path and a part of the message. */
    readonly expect: string | [path: string, fragment: string];
}

const broken: Case[] = [
    // wrong types
    { what: "a node's vcpus as a string", stack: "staging", edit: (c) => (c["oslo-mesh:nodes"][1].vcpus = "four"), expect: "oslo-mesh:nodes[1].vcpus: expected a number, got string" },
    { what: "nodes as an object", stack: "staging", edit: (c) => (c["oslo-mesh:nodes"] = { cp: {} }), expect: "oslo-mesh:nodes: expected a list, got an object" },
    { what: "mixer policy enabled as a string", stack: "staging", edit: (c) => (c["oslo-mesh:istio"].mixer = { policy: { enabled: "yes" } }), expect: "oslo-mesh:istio.mixer.policy.enabled: expected a boolean, got string" },
    { what: "a malformed proxy quantity", stack: "staging", edit: (c) => (c["oslo-mesh:istio"].proxy = { resources: { requests: { cpu: "-100m" } } }), expect: ["oslo-mesh:istio.proxy.resources.requests.cpu", "must be a non-negative Kubernetes quantity"] },
    { what: "a route timeout that is not a duration", stack: "staging", edit: (c) => (c["oslo-mesh:canaries"][0].timeout = "10 seconds"), expect: ["oslo-mesh:canaries[0].timeout", "must be a duration"] },
    // missing required keys
    { what: "no SSH public key", stack: "staging", edit: (c) => delete c["oslo-mesh:ssh"].publicKey, expect: "oslo-mesh:ssh.publicKey: required; expected a string" },
    { what: "no nodes in staging", stack: "staging", edit: (c) => delete c["oslo-mesh:nodes"], expect: "oslo-mesh:nodes: required; expected a list" },
    { what: "a node without a role", stack: "prod", edit: (c) => delete c["oslo-mesh:nodes"][4].role, expect: ["oslo-mesh:nodes[4].role", "expected one of \"control-plane\", \"worker\""] },
    { what: "a stack name that is no environment, without oslo-mesh:environment", stack: "staging", as: "qa", edit: () => undefined, expect: ["oslo-mesh:environment", "required because the stack name \"qa\""] },
    { what: "no admin CIDRs in prod", stack: "prod", edit: (c) => delete c["oslo-mesh:kubernetes"].adminCidrs, expect: "oslo-mesh:kubernetes.adminCidrs: required; expected a list" },
    // out of range
    { what: "weights summing to 95", stack: "staging", edit: (c) => (c["oslo-mesh:canaries"][0].weights = { v1: 85, v2: 10 }), expect: "oslo-mesh:canaries[0].weights: must sum to 100, got 95" },
    { what: "a weight above 100", stack: "staging", edit: (c) => (c["oslo-mesh:canaries"][0].weights = { v1: 110, v2: -10 }), expect: "oslo-mesh:canaries[0].weights.v1: must be an integer from 0 to 100, got 110" },
    { what: "a fractional weight", stack: "staging", edit: (c) => (c["oslo-mesh:canaries"][0].weights = { v1: 89.5, v2: 10.5 }), expect: "oslo-mesh:canaries[0].weights.v1: must be an integer from 0 to 100, got 89.5" },
    { what: "trace sampling above 100", stack: "staging", edit: (c) => (c["oslo-mesh:istio"].traceSampling = 150), expect: "oslo-mesh:istio.traceSampling: must be a percentage from 0 to 100, got 150" },
    { what: "a control plane with one vCPU", stack: "staging", edit: (c) => (c["oslo-mesh:nodes"][0].vcpus = 1), expect: "oslo-mesh:nodes[0].vcpus: a control-plane node needs at least 2 vCPUs (kubeadm preflight), got 1" },
    { what: "a control plane with 1024 MiB", stack: "staging", edit: (c) => (c["oslo-mesh:nodes"][0].memoryMiB = 1024), expect: "oslo-mesh:nodes[0].memoryMiB: a control-plane node needs at least 1700 MiB (kubeadm preflight), got 1024" },
    { what: "a 10 GiB disk", stack: "staging", edit: (c) => (c["oslo-mesh:nodes"][2].diskGiB = 10), expect: "oslo-mesh:nodes[2].diskGiB: must be at least 20 GiB, got 10" },
    { what: "a report batch of 0 entries", stack: "staging", edit: (c) => (c["oslo-mesh:istio"].mixer = { telemetry: { reportBatchMaxEntries: 0 } }), expect: "oslo-mesh:istio.mixer.telemetry.reportBatchMaxEntries: must be an integer from 1 to 10000, got 0" },
    // unknown keys
    { what: "an unknown top-level key", stack: "prod", edit: (c) => (c["oslo-mesh:regoin"] = "oslo"), expect: ["oslo-mesh:regoin", "unknown key; expected one of: environment, region"] },
    { what: "a misspelt nested key", stack: "prod", edit: (c) => (c["oslo-mesh:istio"].mixr = {}), expect: ["oslo-mesh:istio.mixr", "unknown key; expected one of: version, mixer"] },
    { what: "an unknown key inside a node", stack: "prod", edit: (c) => (c["oslo-mesh:nodes"][0].cpus = 4), expect: ["oslo-mesh:nodes[0].cpus", "unknown key; expected one of: name, role, hypervisor, ip"] },
    { what: "an unknown region", stack: "prod", edit: (c) => (c["oslo-mesh:region"] = "bergen"), expect: "oslo-mesh:region: expected one of \"oslo\", got \"bergen\"" },
    // contradictions between keys
    { what: "PERMISSIVE mTLS in prod", stack: "prod", edit: (c) => (c["oslo-mesh:mesh"].mtls = { mode: "PERMISSIVE" }), expect: "oslo-mesh:mesh.mtls.mode: prod requires STRICT mTLS, got PERMISSIVE" },
    { what: "two control planes in prod", stack: "prod", edit: (c) => (c["oslo-mesh:nodes"][2].role = "worker"), expect: ["oslo-mesh:nodes", "prod needs an odd number of control-plane nodes, at least 3"] },
    { what: "policy checks with Mixer policy off", stack: "staging", edit: (c) => (c["oslo-mesh:istio"].mixer = { policyChecks: true }), expect: ["oslo-mesh:istio.mixer.policyChecks", "policy checks need Mixer policy"] },
    { what: "a weight for an undefined subset", stack: "staging", edit: (c) => (c["oslo-mesh:canaries"][0].weights = { v1: 90, v3: 10 }), expect: ["oslo-mesh:canaries[0].weights.v3", "routes to subset \"v3\", which the DestinationRule does not define"] },
    { what: "duplicate node names", stack: "prod", edit: (c) => (c["oslo-mesh:nodes"][5].name = "prod-worker-1"), expect: ["oslo-mesh:nodes[5].name", "duplicate node name \"prod-worker-1\""] },
    { what: "duplicate node IPs", stack: "prod", edit: (c) => (c["oslo-mesh:nodes"][5].ip = "203.0.113.20"), expect: ["oslo-mesh:nodes[5].ip", "duplicate IP 203.0.113.20 (also nodes[3].ip)"] },
    { what: "an IP outside the hypervisor's subnet", stack: "prod", edit: (c) => (c["oslo-mesh:nodes"][3].ip = "198.51.100.20"), expect: ["oslo-mesh:nodes[3].ip", "198.51.100.20 is outside the subnet 203.0.113.0/24"] },
    { what: "a node on an undeclared hypervisor", stack: "prod", edit: (c) => (c["oslo-mesh:nodes"][0].hypervisor = "osl-hv-9"), expect: ["oslo-mesh:nodes[0].hypervisor", "\"osl-hv-9\" is not declared in vps.hypervisors"] },
    { what: "an SSH public key that does not parse", stack: "staging", edit: (c) => (c["oslo-mesh:ssh"].publicKey = "ssh-ed25519 AAAAC3NzaC1yc2EAAAADAQABAAABAQ"), expect: ["oslo-mesh:ssh.publicKey", "does not hold a ssh-ed25519 key"] },
    { what: "Kubernetes 1.16", stack: "staging", edit: (c) => (c["oslo-mesh:kubernetes"].version = "1.16.0"), expect: "oslo-mesh:kubernetes.version: 1.16.0 is not supported: Istio 1.3.3 is tested with Kubernetes 1.13 to 1.15, so expected 1.13.x to 1.15.x" },
    { what: "a pod CIDR overlapping the service CIDR", stack: "staging", edit: (c) => (c["oslo-mesh:kubernetes"].podCidr = "10.96.0.0/16"), expect: ["oslo-mesh:kubernetes.serviceCidr", "10.96.0.0/12 overlaps 10.96.0.0/16"] },
    { what: "a pod CIDR overlapping the node subnet", stack: "staging", edit: (c) => (c["oslo-mesh:kubernetes"].podCidr = "203.0.0.0/8"), expect: ["oslo-mesh:vps.hypervisors[0].subnet", "203.0.113.0/24 overlaps 203.0.0.0/8"] },
    { what: "a control-plane endpoint that is a worker's IP", stack: "staging", edit: (c) => (c["oslo-mesh:kubernetes"].controlPlaneEndpoint = "203.0.113.20:6443"), expect: ["oslo-mesh:kubernetes.controlPlaneEndpoint", "203.0.113.20 is not the IP of a control-plane node"] },
    { what: "an admin CIDR that does not parse", stack: "staging", edit: (c) => (c["oslo-mesh:kubernetes"].adminCidrs = ["198.51.100.0/33"]), expect: "oslo-mesh:kubernetes.adminCidrs[0]: must be an IPv4 CIDR such as 10.0.0.0/16, got \"198.51.100.0/33\"" },
    { what: "zero control-plane nodes", stack: "staging", edit: (c) => (c["oslo-mesh:nodes"][0].role = "worker"), expect: "oslo-mesh:nodes: expected at least one node with role control-plane" },
    { what: "injection into kube-system", stack: "staging", edit: (c) => (c["oslo-mesh:istio"].injectNamespaces = ["bookinfo", "kube-system"]), expect: "oslo-mesh:istio.injectNamespaces[1]: kube-system must not get sidecar injection" },
    { what: "proxy requests above limits", stack: "staging", edit: (c) => (c["oslo-mesh:istio"].proxy = { resources: { requests: { memory: "2Gi" } } }), expect: "oslo-mesh:istio.proxy.resources.requests.memory: request 2Gi is above the limit 1024Mi" },
    { what: "an Istio version other than 1.3.3", stack: "staging", edit: (c) => (c["oslo-mesh:istio"].version = "1.4.0"), expect: ["oslo-mesh:istio.version", "only Istio 1.3.3 is supported"] },
    { what: "retries that outlast the route timeout", stack: "staging", edit: (c) => (c["oslo-mesh:canaries"][0].retries = { attempts: 5, perTryTimeout: "3s" }), expect: "oslo-mesh:canaries[0].retries: 5 attempts × 3s = 15000ms exceeds the route timeout 10s" },
    { what: "a canary in a namespace without injection", stack: "staging", edit: (c) => (c["oslo-mesh:canaries"][0].namespace = "shop"), expect: ["oslo-mesh:canaries[0].namespace", "shop has no sidecar injection"] },
    { what: "two canaries for the same host", stack: "staging", edit: (c) => c["oslo-mesh:canaries"].push({ ...c["oslo-mesh:canaries"][0], weights: { v1: 100 } }), expect: ["oslo-mesh:canaries[1].service", "the host reviews.bookinfo is already routed by canaries[0]"] },
    { what: "duplicate subset names", stack: "staging", edit: (c) => (c["oslo-mesh:canaries"][0].subsets[1].name = "v1"), expect: ["oslo-mesh:canaries[0].subsets[1].name", "duplicate subset name \"v1\""] },
    { what: "an empty label selector", stack: "staging", edit: (c) => (c["oslo-mesh:canaries"][0].subsets[0].labels = {}), expect: ["oslo-mesh:canaries[0].subsets[0].labels", "expected at least one label"] },
    { what: "an mTLS exception naming nothing", stack: "staging", edit: (c) => (c["oslo-mesh:mesh"].mtls = { exceptions: [{ namespace: "" }] }), expect: ["oslo-mesh:mesh.mtls.exceptions[0].namespace", "an exception must name a namespace"] },
    { what: "a private IP on a libvirt VM", stack: "staging", edit: (c) => (c["oslo-mesh:nodes"][1].privateIp = "10.0.0.5"), expect: ["oslo-mesh:nodes[1].privateIp", "a libvirt VM has one interface"] },
    { what: "an inventory node without an IP", stack: "staging", edit: (c) => { c["oslo-mesh:vps"] = { driver: "inventory" }; delete c["oslo-mesh:nodes"][2].ip; }, expect: ["oslo-mesh:nodes[2].ip", "required with the inventory driver"] },
    { what: "a static hypervisor without a gateway", stack: "staging", edit: (c) => delete c["oslo-mesh:vps"].hypervisors[1].gateway, expect: ["oslo-mesh:vps.hypervisors[1].gateway", "required for static addressing"] },
    { what: "injection into istio-system", stack: "staging", edit: (c) => (c["oslo-mesh:istio"].injectNamespaces = ["istio-system"]), expect: "oslo-mesh:istio.injectNamespaces[0]: istio-system must not get sidecar injection" },
    { what: "an unparsable telemetry quantity", stack: "staging", edit: (c) => (c["oslo-mesh:istio"].mixer = { telemetry: { resources: { limits: { memory: "4 gigs" } } } }), expect: ["oslo-mesh:istio.mixer.telemetry.resources.limits.memory", "must be a non-negative Kubernetes quantity"] },
    { what: "a report batch time over a minute", stack: "staging", edit: (c) => (c["oslo-mesh:istio"].mixer = { telemetry: { reportBatchMaxTime: "5m" } }), expect: "oslo-mesh:istio.mixer.telemetry.reportBatchMaxTime: must be from 1ms to 1m, got 5m" },
    { what: "several control planes on Kubernetes 1.14", stack: "prod", edit: (c) => (c["oslo-mesh:kubernetes"].version = "1.14.10"), expect: ["oslo-mesh:kubernetes.version", "3 control-plane nodes need Kubernetes 1.15"] },
    { what: "a header match with two kinds of match", stack: "staging", edit: (c) => (c["oslo-mesh:canaries"][0].match.headers = { "end-user": { exact: "jason", prefix: "ja" } }), expect: "oslo-mesh:canaries[0].match.headers.end-user: expected exactly one of the forms: {exact} or {prefix} or {regex}" },
    { what: "a secret given for a key that holds nothing secret", stack: "staging", edit: (c) => (c["oslo-mesh:region"] = "oslo"), expect: ["oslo-mesh:region", "is set as a secret but holds nothing secret"] },
];

describe("stack config: broken configs name the key and what was expected", () => {
    for (const c of broken) {
        it(c.what, () => {
            const secretKeys = c.what.startsWith("a secret given") ? ["oslo-mesh:region"] : [];
            const problems = problemsOf(c.as ?? c.stack, edited(c.stack, c.edit), secretKeys);
            if (typeof c.expect === "string") {
                assert.ok(problems.includes(c.expect), `expected the problem\n  ${c.expect}\ngot\n  ${problems.join("\n  ")}`);
            } else {
                const [path, fragment] = c.expect;
                const hit = problems.find((p) => p.startsWith(`${path}: `) && p.includes(fragment));
                assert.ok(hit, `expected a problem at ${path} containing "${fragment}", got\n  ${problems.join("\n  ")}`);
            }
        });
    }

    it("reports every problem of a config at once, across sections", () => {
        const problems = problemsOf(
            "prod",
            edited("prod", (c) => {
                c["oslo-mesh:nodes"][0].vcpus = 1;
                c["oslo-mesh:istio"].traceSampling = -1;
                c["oslo-mesh:canaries"][0].weights = { v1: 50, v2: 10 };
                c["oslo-mesh:kubernetes"].version = "1.12.0";
            }),
        );
        assert.deepStrictEqual(
            problems.map((p) => p.split(": ")[0]).sort(),
            ["oslo-mesh:canaries[0].weights", "oslo-mesh:istio.traceSampling", "oslo-mesh:kubernetes.version", "oslo-mesh:nodes[0].vcpus"],
        );
    });

    it("a structural error in one section does not hide the rules of another", () => {
        const problems = problemsOf("staging", edited("staging", (c) => {
            c["oslo-mesh:nodes"][0].vcpus = "two";
            c["oslo-mesh:istio"].mixer = { policyChecks: true };
        }));
        assert.ok(problems.some((p) => p.startsWith("oslo-mesh:nodes[0].vcpus: expected a number")));
        assert.ok(problems.some((p) => p.startsWith("oslo-mesh:istio.mixer.policyChecks: ")));
    });

    it("never echoes the SSH private key in a message", () => {
        const secret = "-----BEGIN OPENSSH PRIVATE KEY-----\nverysecretmaterial\n";
        const problems = problemsOf("staging", edited("staging", (c) => (c["oslo-mesh:ssh"] = { publicKey: c["oslo-mesh:ssh"].publicKey, privateKey: { pem: secret } })), ["oslo-mesh:ssh"]);
        assert.deepStrictEqual(problems, ["oslo-mesh:ssh.privateKey: expected a string, got an object"]);
        assert.ok(!problems.join("\n").includes("verysecretmaterial"));
    });
});
