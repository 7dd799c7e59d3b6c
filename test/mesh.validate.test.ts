// What Istio 1.3.3, the API server or Pulumi would refuse is refused by the config first,
// naming the key. Each case starts from the committed staging (or dev) stack and breaks one thing.
import * as assert from "assert";
import { retryOnProblem, RETRY_ON_POLICIES } from "../components/mesh/grammar";
import { problemsOf, stackFileConfig } from "./harness";

type Config = Record<string, any>;
interface Case {
    readonly what: string;
    readonly stack?: string;
    readonly edit: (c: Config) => void;
    /** The whole problem line, or its path and a part of its message. */
    readonly expect: string | [string, string];
}

const canary = (c: Config) => c["oslo-mesh:canaries"][0];
const ingress = (c: Config) => c["oslo-mesh:mesh"].ingress;
const withNamespaces = (c: Config, ...ns: string[]) => (c["oslo-mesh:istio"].injectNamespaces = [...c["oslo-mesh:istio"].injectNamespaces, ...ns]);
const subsets = [{ name: "v1", labels: { version: "v1" } }];

const CASES: Case[] = [
    { what: "retries with 0 attempts", edit: (c) => (canary(c).retries.attempts = 0), expect: "oslo-mesh:canaries[0].retries.attempts: must be at least 1, got 0" },
    { what: "retryOn reset (not in Istio 1.3's list)", edit: (c) => (canary(c).retries.retryOn = "reset"), expect: ["oslo-mesh:canaries[0].retries.retryOn", '"reset" is not a retry condition Istio 1.3 knows'] },
    { what: "retryOn retriable-headers", edit: (c) => (canary(c).retries.retryOn = "5xx,retriable-headers"), expect: ["oslo-mesh:canaries[0].retries.retryOn", '"retriable-headers" is not a retry condition'] },
    { what: "retryOn connect_failure", edit: (c) => (canary(c).retries.retryOn = "connect_failure"), expect: ["oslo-mesh:canaries[0].retries.retryOn", '"connect_failure" is not a retry condition'] },
    { what: "retryOn with a space after a comma", edit: (c) => (canary(c).retries.retryOn = "5xx, connect-failure"), expect: ["oslo-mesh:canaries[0].retries.retryOn", '" connect-failure" is not a retry condition'] },
    { what: "a timeout under 1ms", edit: (c) => (canary(c).timeout = "0.5ms"), expect: 'oslo-mesh:canaries[0].timeout: must be at least 1ms (Istio 1.3 refuses less), got "0.5ms"' },
    { what: "a timeout of sub-millisecond precision", edit: (c) => (canary(c).timeout = "1.5ms"), expect: 'oslo-mesh:canaries[0].timeout: must be whole milliseconds (Istio 1.3 refuses finer), got "1.5ms"' },
    { what: "a per-try timeout too large for Go", edit: (c) => (canary(c).retries.perTryTimeout = "3000000h"), expect: 'oslo-mesh:canaries[0].retries.perTryTimeout: must fit in a Go duration (at most 2562047h), got "3000000h"' },
    { what: "a zero per-try timeout", edit: (c) => (canary(c).retries.perTryTimeout = "0s"), expect: 'oslo-mesh:canaries[0].retries.perTryTimeout: must be at least 1ms (Istio 1.3 refuses less), got "0s"' },
    { what: "a Mixer batch time of sub-millisecond precision", edit: (c) => (c["oslo-mesh:istio"].mixer = { telemetry: { reportBatchMaxTime: "0.0015s" } }), expect: ["oslo-mesh:istio.mixer.telemetry.reportBatchMaxTime", "must be whole milliseconds"] },
    // The loader refuses empty keys in any map (stacks/limits.ts), before this rule sees them.
    { what: "an empty header name", edit: (c) => (canary(c).match.headers = { "": { exact: "jason" } }), expect: ["oslo-mesh:canaries[0].match.headers", "holds a key that is empty"] },
    { what: "a header name with a space", edit: (c) => (canary(c).match.headers = { "end user": { exact: "jason" } }), expect: ["oslo-mesh:canaries[0].match.headers.end user", "is not an HTTP header name"] },
    { what: "a subset label key that is not label syntax", edit: (c) => (canary(c).subsets[0].labels = { "version!": "v1" }), expect: ["oslo-mesh:canaries[0].subsets[0].labels.version!", '"version!" is not a label key'] },
    { what: "a subset label value that is not label syntax", edit: (c) => (canary(c).subsets[1].labels = { version: "v 2" }), expect: ["oslo-mesh:canaries[0].subsets[1].labels.version", '"v 2" is not a label value'] },
    { what: "a subset label value longer than a pod label", edit: (c) => (canary(c).subsets[1].labels = { version: "v".repeat(64) }), expect: ["oslo-mesh:canaries[0].subsets[1].labels.version", "is longer than 63 characters"] },
    { what: "an ingress host that is a short name", edit: (c) => (ingress(c).hosts = ["bookinfo"]), expect: ["oslo-mesh:mesh.ingress.hosts[0]", '"bookinfo" is a short name'] },
    { what: "an ingress host with a port", edit: (c) => (ingress(c).hosts = ["bookinfo.example.com:80"]), expect: ["oslo-mesh:mesh.ingress.hosts[0]", "carries a port"] },
    { what: "an ingress host with a scheme", edit: (c) => (ingress(c).hosts = ["https://bookinfo.example.com"]), expect: ["oslo-mesh:mesh.ingress.hosts[0]", "carries a scheme"] },
    { what: "an ingress host with a namespace prefix", edit: (c) => (ingress(c).hosts = ["bookinfo/bookinfo.example.com"]), expect: ["oslo-mesh:mesh.ingress.hosts[0]", 'carries a "/"'] },
    { what: "an ingress host repeated", edit: (c) => (ingress(c).hosts = ["a.example.com", "a.example.com"]), expect: "oslo-mesh:mesh.ingress.hosts[1]: repeats hosts[0]" },
    { what: "an ingress host under a wildcard of the list", edit: (c) => (ingress(c).hosts = ["*.example.com", "shop.example.com"]), expect: ["oslo-mesh:mesh.ingress.hosts[1]", '"shop.example.com" overlaps hosts[0] "*.example.com"'] },
    { what: "an ingress URI that is not a path", edit: (c) => (ingress(c).uris = [{ exact: "productpage" }]), expect: ["oslo-mesh:mesh.ingress.uris[0].exact", 'a path starts with "/"'] },
    { what: "an exception namespace that is not a DNS label", edit: (c) => (c["oslo-mesh:mesh"].mtls = { exceptions: [{ namespace: "Legacy" }] }), expect: ["oslo-mesh:mesh.mtls.exceptions[0].namespace", '"Legacy" is not a namespace name'] },
    { what: "an exception service that is not a DNS label", edit: (c) => (c["oslo-mesh:mesh"].mtls = { exceptions: [{ namespace: "shop", service: "pay_ments" }] }), expect: ["oslo-mesh:mesh.mtls.exceptions[0].service", '"pay_ments" is not a service name'] },
    {
        what: "an exception whose derived DestinationRule name is over 63 characters",
        edit: (c) => (c["oslo-mesh:mesh"].mtls = { exceptions: [{ namespace: "n".repeat(30), service: "s".repeat(30) }] }),
        expect: ["oslo-mesh:mesh.mtls.exceptions[0]", `derives the DestinationRule istio-system/mtls-exception-${"n".repeat(30)}-${"s".repeat(30)}, a name of 76 characters (at most 63)`],
    },
    {
        what: "exceptions {namespace: a-b} and {namespace: a, service: b} (the same DestinationRule)",
        edit: (c) => (c["oslo-mesh:mesh"].mtls = { exceptions: [{ namespace: "a-b" }, { namespace: "a", service: "b" }] }),
        expect: "oslo-mesh:mesh.mtls.exceptions[1]: derives the DestinationRule istio-system/mtls-exception-a-b, which mesh.mtls.exceptions[0] derives too: one would overwrite the other",
    },
    {
        what: "canaries c in a-b and b-c in a (the same Pulumi resource names)",
        edit: (c) => {
            withNamespaces(c, "a-b", "a");
            c["oslo-mesh:canaries"] = [
                { service: "c", namespace: "a-b", subsets, weights: { v1: 100 } },
                { service: "b-c", namespace: "a", subsets, weights: { v1: 100 } },
            ];
        },
        expect: "oslo-mesh:canaries[1]: derives the Pulumi resource canary-a-b-c-destinationrule, which canaries[0] derives too: rename one of them",
    },
    {
        what: "a canary named like the ingress route's VirtualService",
        edit: (c) => c["oslo-mesh:canaries"].push({ service: "productpage-ingress", namespace: "bookinfo", subsets, weights: { v1: 100 } }),
        expect: "oslo-mesh:mesh.ingress: derives the VirtualService bookinfo/productpage-ingress, which canaries[1] derives too: one would overwrite the other",
    },
    {
        what: "an ingress VirtualService explicitly named like a canary's",
        edit: (c) => (ingress(c).virtualServiceName = "reviews"),
        expect: "oslo-mesh:mesh.ingress: derives the VirtualService bookinfo/reviews, which canaries[0] derives too: one would overwrite the other",
    },
    {
        what: "ExternalIPs on workers without static addresses (dev's DHCP)",
        stack: "dev",
        edit: (c) => (c["oslo-mesh:istio"].ingressGateway = { exposure: "ExternalIPs" }),
        expect: ["oslo-mesh:nodes[1].ip", "istio.ingressGateway.exposure ExternalIPs answers on the workers' static addresses; dev-worker-1 has none (DHCP)"],
    },
    {
        what: "a single pilot under a PodDisruptionBudget",
        edit: (c) => (c["oslo-mesh:istio"].pilot = { autoscaleMin: 1 }),
        expect: ["oslo-mesh:istio.pilot.autoscaleMin", "`kubectl drain` can never evict a single one"],
    },
    { what: "trace sampling finer than pilot's 0.01", edit: (c) => (c["oslo-mesh:istio"].traceSampling = 0.001), expect: "oslo-mesh:istio.traceSampling: pilot samples to 0.01 percent, got 0.001" },
];

describe("mesh and istio config: what Istio 1.3.3 refuses is refused first, by key", () => {
    for (const k of CASES) {
        it(k.what, () => {
            const stack = k.stack ?? "staging";
            const c = stackFileConfig(stack) as Config;
            k.edit(c);
            const problems = problemsOf(stack, c);
            if (typeof k.expect === "string") assert.ok(problems.includes(k.expect), `expected\n  ${k.expect}\ngot\n  ${problems.join("\n  ")}`);
            else {
                const [path, part] = k.expect;
                assert.ok(problems.some((p) => p.startsWith(`${path}: `) && p.includes(part)), `expected ${path}: …${part}…\ngot\n  ${problems.join("\n  ")}`);
            }
        });
    }

    it("what Istio 1.3 accepts stays accepted: status codes and named conditions, wildcards, the bookinfo labels", () => {
        assert.strictEqual(retryOnProblem("5xx,connect-failure,refused-stream,503"), undefined);
        assert.strictEqual(retryOnProblem(RETRY_ON_POLICIES.join(",")), undefined);
        const c = stackFileConfig("staging") as Config;
        canary(c).retries.retryOn = "gateway-error,503";
        canary(c).timeout = "6.5s";
        ingress(c).hosts = ["bookinfo.example.com", "*.shop.example.com"];
        c["oslo-mesh:mesh"].mtls = { exceptions: [{ namespace: "legacy" }, { namespace: "bookinfo", service: "ratings" }] };
        assert.deepStrictEqual(problemsOf("staging", c), []);
    });
});
