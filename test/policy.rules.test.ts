// The policy rules as pure functions: for each, resources that violate it and resources that
// pass, built from the program's own renders (and Istio 1.3.3's renderer for the chart's objects).
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as jsyaml from "js-yaml";
import fc from "fast-check";
import { CanaryConfig, MtlsConfig, renderCanary, renderIngress, renderMeshMtls } from "../components/mesh/render";
import { renderIstioValues } from "../components/istio/values";
import { EXCEPTION_EXPIRES, EXCEPTION_OWNER, PROGRESSION_STEPS, PROGRESSION_SUBSET } from "../policy/rules/annotations";
import { environmentOf } from "../policy/rules/facts";
import { imageTag, istioChartPinned, latestReferences, noLatestImage } from "../policy/rules/images";
import { isIstioChart } from "../policy/rules/k8s";
import { ISTIO_133_DEFAULTS, resourceLimits } from "../policy/rules/limits";
import { mtlsExceptionsDeclared, prodStrictMtls } from "../policy/rules/mtls";
import { canaryProgression, virtualServiceRoutes } from "../policy/rules/routes";
import { RULES, UNKNOWN } from "../policy/rules";
import { parsedConfig, REFERENCE_DIR, stackFileConfig } from "./harness";
import { chartResource, facts, k8sResource, violations } from "./policyFixtures";
import { helmChart, osloistio, renderChart, skipBecause } from "./upstream";

const mesh = (mtls: MtlsConfig, domain = "cluster.local") => renderMeshMtls(mtls, domain).map((o) => k8sResource(o));
const reviews: CanaryConfig = {
    service: "reviews",
    namespace: "bookinfo",
    subsets: [
        { name: "v1", labels: { version: "v1" } },
        { name: "v2", labels: { version: "v2" } },
    ],
    weights: { v1: 90, v2: 10 },
};
const canary = (c: CanaryConfig = reviews) => {
    const { destinationRule, virtualService } = renderCanary(c, { mode: "STRICT", exceptions: [] });
    return { dr: k8sResource(destinationRule), vs: k8sResource(virtualService) };
};

describe("policy rules: the pack's definitions", () => {
    it("have unique names, a description, and a level", () => {
        assert.strictEqual(new Set(RULES.map((r) => r.name)).size, RULES.length);
        for (const r of RULES) {
            assert.match(r.name, /^[a-z0-9]+(-[a-z0-9]+)*$/);
            assert.ok(r.description.length > 20, r.name);
        }
        assert.deepStrictEqual(RULES.filter((r) => r.enforcementLevel === "advisory").map((r) => r.name), ["canary-progression"]);
    });

    it("the environment is the stricter of what the stack declares and what its name says", () => {
        assert.strictEqual(environmentOf("prod", "prod"), "prod");
        assert.strictEqual(environmentOf("prod", "staging"), "prod", "a stack named prod cannot talk itself down");
        assert.strictEqual(environmentOf("qa", "prod"), "prod");
        assert.strictEqual(environmentOf("qa", "staging"), "staging");
        assert.strictEqual(environmentOf("dev", undefined), "dev");
        assert.strictEqual(environmentOf("qa", undefined), undefined);
    });
});

describe("policy rule prod-strict-mtls", () => {
    it("passes prod with the program's STRICT objects", () => {
        assert.deepStrictEqual(violations(prodStrictMtls, mesh({ mode: "STRICT", exceptions: [] })), []);
    });

    it("fails prod with PERMISSIVE, with no policy at all, or with peerIsOptional", () => {
        assert.match(violations(prodStrictMtls, mesh({ mode: "PERMISSIVE", exceptions: [] })).join("\n"), /MeshPolicy `default` is not STRICT \(peers \[\{"mtls":\{"mode":"PERMISSIVE"\}\}\]\)/);
        const none = violations(prodStrictMtls, mesh({ mode: "DISABLE", exceptions: [] }));
        assert.match(none[0], /prod has no MeshPolicy `default`/);
        assert.match(none[1], /no DestinationRule in istio-system with tls.mode ISTIO_MUTUAL/);
        const optional = mesh({ mode: "STRICT", exceptions: [] });
        const mp = optional.find((r) => r.type.endsWith(":MeshPolicy"))!;
        (mp.props.spec as Record<string, unknown>).peerIsOptional = true;
        assert.match(violations(prodStrictMtls, optional).join("\n"), /not STRICT .*peerIsOptional/);
    });

    it("fails when the mesh-wide rule does not cover the cluster domain, or is not ISTIO_MUTUAL", () => {
        // Istio's own chart names *.local: with another cluster domain that matches no service.
        const oslo = facts("prod", { clusterDomain: "oslo.internal" });
        assert.deepStrictEqual(violations(prodStrictMtls, mesh({ mode: "STRICT", exceptions: [] }, "oslo.internal"), oslo), [], "the program follows the domain");
        const chartHost = mesh({ mode: "STRICT", exceptions: [] }, "oslo.internal");
        (chartHost.find((r) => r.name === "default" && r.type.endsWith(":DestinationRule"))!.props as any).spec.host = "*.local";
        assert.match(violations(prodStrictMtls, chartHost, oslo).join("\n"), /every service of its cluster domain oslo.internal/);
        const simple = mesh({ mode: "STRICT", exceptions: [] });
        const dr = simple.find((r) => r.name === "default" && r.type.endsWith(":DestinationRule"))!;
        (dr.props as any).spec.trafficPolicy.tls.mode = "SIMPLE";
        assert.match(violations(prodStrictMtls, simple).join("\n"), /found DestinationRule istio-system\/default without it/);
    });

    it("does not apply outside prod", () => {
        assert.deepStrictEqual(violations(prodStrictMtls, mesh({ mode: "PERMISSIVE", exceptions: [] }), facts("staging")), []);
    });
});

describe("policy rule mtls-exceptions-declared", () => {
    const exception = (more: Partial<MtlsConfig["exceptions"][number]>) => mesh({ mode: "STRICT", exceptions: [{ namespace: "legacy", ...more }] });

    it("passes a declared exception until its last day, and the API server's rule", () => {
        assert.deepStrictEqual(violations(mtlsExceptionsDeclared, exception({ owner: "payments-team", expires: "2026-06-15" })), []);
        assert.deepStrictEqual(violations(mtlsExceptionsDeclared, mesh({ mode: "STRICT", exceptions: [] })), [], "kubernetes.default.svc is not an exception");
    });

    it("stamps owner and expiry on both objects of an exception", () => {
        const objs = exception({ service: "pay", owner: "payments-team", expires: "2026-06-30" }).filter((r) => r.name.startsWith("mtls-exception"));
        assert.deepStrictEqual(objs.map((r) => r.type.split(":").pop()).sort(), ["DestinationRule", "Policy"]);
        for (const r of objs) assert.deepStrictEqual((r.props as any).metadata.annotations, { [EXCEPTION_OWNER]: "payments-team", [EXCEPTION_EXPIRES]: "2026-06-30" });
    });

    it("fails a lapsed exception (the day after expires), naming owner and date", () => {
        const v = violations(mtlsExceptionsDeclared, exception({ owner: "payments-team", expires: "2026-06-14" }));
        assert.strictEqual(v.length, 2, "the DestinationRule and the Policy");
        assert.match(v[0], /DestinationRule istio-system\/mtls-exception-legacy lets plaintext through \(host \*\.legacy\.svc\.cluster\.local\): the exception owned by payments-team lapsed after 2026-06-14 \(today is 2026-06-15\)/);
        assert.match(v[1], /Policy legacy\/default lets plaintext through/);
    });

    it("a canary's own rule that carries its exception's TLS off carries the owner and expiry too", () => {
        const mtls: MtlsConfig = { mode: "STRICT", exceptions: [{ namespace: "bookinfo", service: "reviews", owner: "reviews-team", expires: "2026-07-01" }] };
        const { destinationRule } = renderCanary(reviews, mtls);
        assert.strictEqual(destinationRule.spec.trafficPolicy?.tls?.mode, "DISABLE");
        assert.deepStrictEqual(violations(mtlsExceptionsDeclared, [...mesh(mtls), k8sResource(destinationRule)]), []);
        const lapsed = renderCanary(reviews, { ...mtls, exceptions: [{ ...mtls.exceptions[0], expires: "2026-06-01" }] }).destinationRule;
        assert.match(violations(mtlsExceptionsDeclared, [k8sResource(lapsed)]).join("\n"), /DestinationRule bookinfo\/reviews lets plaintext through \(host reviews\): the exception owned by reviews-team lapsed after 2026-06-01/);
    });

    it("fails TLS turned off without a declared exception, also per port or subset", () => {
        assert.match(violations(mtlsExceptionsDeclared, exception({})).join("\n"), /without a declared exception: add it to mesh.mtls.exceptions with an owner and an expires date/);
        const { dr } = canary();
        (dr.props as any).spec.subsets[1].trafficPolicy = { portLevelSettings: [{ port: { number: 9080 }, tls: { mode: "DISABLE" } }] };
        assert.match(violations(mtlsExceptionsDeclared, [dr]).join("\n"), /DestinationRule bookinfo\/reviews lets plaintext through \(host reviews\) without a declared exception/);
    });

    it("does not apply outside prod", () => {
        assert.deepStrictEqual(violations(mtlsExceptionsDeclared, exception({}), facts("staging")), []);
    });
});

describe("policy rule virtualservice-routes", () => {
    it("passes the program's canary and ingress routes", () => {
        const { dr, vs } = canary({ ...reviews, match: { headers: { "end-user": { exact: "jason" } }, subset: "v2" } });
        const ingress = renderIngress({ hosts: ["bookinfo.example"], namespace: "bookinfo", service: "productpage", port: 9080 });
        assert.deepStrictEqual(violations(virtualServiceRoutes, [dr, vs, k8sResource(ingress.virtualService)]), []);
    });

    it("fails weights that do not sum to 100 (Istio 1.3.3 validation.go: several destinations)", () => {
        const { dr, vs } = canary();
        (vs.props as any).spec.http[0].route[1].weight = 5;
        assert.deepStrictEqual(violations(virtualServiceRoutes, [dr, vs]), ["VirtualService bookinfo/reviews http[0]: the weights sum to 95, not 100 (v1=90, v2=5)"]);
    });

    it("fails a route to a subset that no DestinationRule for its host defines", () => {
        const { dr, vs } = canary();
        (vs.props as any).spec.http[0].route[1].destination.subset = "v3";
        assert.deepStrictEqual(violations(virtualServiceRoutes, [dr, vs]), ['VirtualService bookinfo/reviews http[0]: routes to subset "v3" of reviews.bookinfo, which DestinationRule bookinfo/reviews does not define']);
        assert.match(violations(virtualServiceRoutes, [vs]).join("\n"), /no DestinationRule for that host defines/);
    });

    it("matches hosts as Istio resolves them: short names in the object's namespace, FQDNs", () => {
        const { dr, vs } = canary();
        (vs.props as any).spec.http[0].route.forEach((r: any) => (r.destination.host = "reviews.bookinfo.svc.cluster.local"));
        assert.deepStrictEqual(violations(virtualServiceRoutes, [dr, vs]), []);
        (dr.props as any).metadata.namespace = "other";
        assert.match(violations(virtualServiceRoutes, [dr, vs]).join("\n"), /no DestinationRule for that host defines/);
    });
});

describe("policy rule canary-progression (advisory)", () => {
    const progression = { steps: [10, 25, 50, 100], hold: "10m", minSuccessRate: 99, maxP99: "500ms", minRequests: 100 };
    const stamped = (weights: Record<string, number>) => canary({ ...reviews, weights, progression }).vs;

    it("the program stamps a canary's route with its steps and its canary subset (by default the last)", () => {
        assert.deepStrictEqual((stamped({ v1: 90, v2: 10 }).props as any).metadata.annotations, { [PROGRESSION_STEPS]: "10,25,50,100", [PROGRESSION_SUBSET]: "v2" });
        const v1First = canary({ ...reviews, progression: { ...progression, subset: "v1" } }).vs;
        assert.strictEqual((v1First.props as any).metadata.annotations[PROGRESSION_SUBSET], "v1");
        assert.strictEqual((canary().vs.props as any).metadata.annotations, undefined, "no progression, no stamp");
    });

    it("passes a weight that is one of the steps, a promotion to 100, and a rollback to 0", () => {
        for (const w of [10, 25, 100, 0]) assert.deepStrictEqual(violations(canaryProgression, [stamped({ v1: 100 - w, v2: w })]), [], `v2 at ${w}`);
    });

    it("fails a weight between steps", () => {
        assert.deepStrictEqual(violations(canaryProgression, [stamped({ v1: 63, v2: 37 })]), [
            "VirtualService bookinfo/reviews: canary subset v2 gets 37%, which is not a step of its progression (10, 25, 50, 100); move it to the next step, or to 0 to roll back",
        ]);
    });

    it("says nothing about a route without a progression, and reports a malformed stamp", () => {
        assert.deepStrictEqual(violations(canaryProgression, [canary().vs]), []);
        const vs = stamped({ v1: 90, v2: 10 });
        (vs.props as any).metadata.annotations[PROGRESSION_STEPS] = "10;20";
        assert.match(violations(canaryProgression, [vs])[0], /is not a list of percentages/);
    });
});

describe("policy rule resource-limits", () => {
    const programValues = (stack: string) => {
        const cfg = parsedConfig(stack, stackFileConfig(stack));
        return renderIstioValues({ istio: cfg.istio, mtlsMode: cfg.mesh.mtls.mode, workerIps: [], clusterDomain: cfg.kubernetes.clusterDomain }) as Record<string, any>;
    };
    /** The same values with pilot and the default resources left as the chart has them (requests only). */
    const chartDefaults = (v: Record<string, any>) => {
        const { defaultResources, ...global } = v.global;
        void defaultResources;
        return { ...v, global, pilot: { ...v.pilot, resources: { requests: v.pilot.resources.requests } } };
    };

    for (const stack of ["dev", "staging", "prod"]) {
        it(`${stack}: passes the program's values, which give every sidecar and control-plane component limits`, () => {
            assert.deepStrictEqual(violations(resourceLimits, [chartResource(programValues(stack))]), []);
        });
    }

    it("fails components left to the chart's defaults, which set requests only", () => {
        const v = violations(resourceLimits, [chartResource(chartDefaults(programValues("prod")))]);
        assert.deepStrictEqual(v.map((m) => m.split(" gets ")[0]).sort(), ["citadel", "galley", "pilot", "prometheus", "sidecar injector"]);
        assert.match(v.join("\n"), /pilot gets no limits.cpu or limits.memory \(its resources come from pilot.resources: \{"requests":\{"cpu":"500m","memory":"2048Mi"\}\}\); set pilot.resources.limits/);
    });

    it("fails sidecars without limits, and an enabled add-on without them", () => {
        const v = programValues("prod");
        // Helm merges values over the chart's (which has sidecar limits); null deletes a key.
        v.global.proxy.resources = { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: null, memory: "1Gi" } };
        v.global.defaultResources = { requests: { cpu: "10m" } };
        v.galley = { resources: { requests: { cpu: "10m" }, limits: { cpu: "1", memory: "1Gi" } } };
        v.security = v.sidecarInjectorWebhook = v.prometheus = v.galley;
        v.tracing = { enabled: true };
        assert.deepStrictEqual(violations(resourceLimits, [chartResource(v)]).map((m) => m.split(" has no ")[0].split(" gets ")[0]), ["every sidecar (istio-proxy)", "tracing (jaeger)"]);
    });

    it("cannot judge values known only at pulumi up (dev's external IPs)", () => {
        const found = resourceLimits.check(chartResource(UNKNOWN));
        assert.deepStrictEqual(found.map((f) => f.undetermined), [true]);
    });

    it("fails a workload container without limits and passes one with them", () => {
        const deployment = (resources: object) => k8sResource({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" }, spec: { template: { spec: { containers: [{ name: "web", image: "nginx:1.17", resources }] } } } } as any);
        assert.deepStrictEqual(violations(resourceLimits, [deployment({ requests: { cpu: "10m" } })]), ["Deployment web container web has no limits.cpu or limits.memory"]);
        assert.deepStrictEqual(violations(resourceLimits, [deployment({ limits: { cpu: "1", memory: "512Mi" } })]), []);
    });

    it("the values' verdict is the real chart's: rendered as the program hands it to Helm, what lacks limits is what the values flag (osloistio)", async function () {
        const tool = osloistio();
        if ("skip" in tool) return skipBecause(this, tool.skip);
        const chart = await helmChart();
        if ("skip" in chart) return skipBecause(this, chart.skip);
        const render = (v: unknown) => renderChart(tool.bin, chart.path, v).objects.map((o) => k8sResource(o as any));
        for (const stack of ["dev", "staging", "prod"]) assert.deepStrictEqual(violations(resourceLimits, render(programValues(stack))), [], stack);
        const flagged = violations(resourceLimits, render(chartDefaults(programValues("prod")))).map((m) => m.split(" ")[1]).sort();
        assert.deepStrictEqual([...new Set(flagged)], ["istio-system/istio-citadel", "istio-system/istio-galley", "istio-system/istio-pilot", "istio-system/istio-sidecar-injector", "istio-system/prometheus"]);
    });

    it("its table of the chart's defaults is the 1.3.3 release's", function () {
        const chart = path.join(REFERENCE_DIR, "istio-1.3.3", "istio");
        if (!fs.existsSync(chart)) return this.skip(); // needs ../shared/reference
        const load = (f: string) => jsyaml.load(fs.readFileSync(path.join(chart, f), "utf8")) as Record<string, any>;
        const top = load("values.yaml");
        for (const [dotted, expected] of Object.entries(ISTIO_133_DEFAULTS)) {
            const [head, ...rest] = dotted.split(".");
            const dig = (doc: unknown, keys: string[]) => keys.reduce<any>((v, k) => (v === undefined || v === null ? undefined : v[k]), doc);
            const sub = fs.existsSync(path.join(chart, "charts", head, "values.yaml")) ? dig(load(`charts/${head}/values.yaml`), rest) : undefined;
            const actual = dig(top, [head, ...rest]) ?? sub;
            assert.deepStrictEqual(actual, expected, dotted);
        }
    });
});

describe("policy rules no-latest-image and istio-chart-pinned", () => {
    const pod = (image: string) => k8sResource({ apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { containers: [{ name: "c", image }] } } as any);

    it("reads image tags as Docker does", () => {
        assert.strictEqual(imageTag("docker.io/istio/pilot:1.3.3"), "1.3.3");
        assert.strictEqual(imageTag("registry:5000/istio/pilot"), "");
        assert.strictEqual(imageTag("nginx@sha256:" + "a".repeat(64)), undefined);
    });

    it("fails latest, no tag, and tags built on latest; passes versions and digests", () => {
        assert.match(violations(noLatestImage, [pod("nginx")])[0], /image nginx has no tag/);
        assert.match(violations(noLatestImage, [pod("nginx:latest")])[0], /moving tag latest/);
        assert.match(violations(noLatestImage, [pod("gcr.io/istio-release/pilot:release-1.3-latest-daily")])[0], /moving tag release-1.3-latest-daily/);
        assert.deepStrictEqual(violations(noLatestImage, [pod("docker.io/istio/pilot:1.3.3"), pod("nginx@sha256:" + "a".repeat(64))]), []);
    });

    it("finds in a script what /[a-z0-9][a-z0-9._/-]*:latest\\b/gi matches, for any text (linear, not that regex)", () => {
        const pieces = ["a", "Z", "7", ".", "_", "/", "-", ":", " ", "=", "\n", ":latest", ":LATEST", "latest", ":lat", "est", "pause"];
        fc.assert(
            fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 40 }), (parts) => {
                const text = parts.join("");
                assert.deepStrictEqual(latestReferences(text), text.match(/[a-z0-9][a-z0-9._/-]*:latest\b/gi) ?? [], JSON.stringify(text));
            }),
            { numRuns: 3000 },
        );
        assert.deepStrictEqual(latestReferences(`ctr pull k8s.gcr.io/pause:latest && echo "${"QUJD/".repeat(20000)}" -- /x:latest:latest`), ["k8s.gcr.io/pause:latest", "x:latest"]);
    });

    it("in the chart's values: global.tag must be set, and no tag may move", () => {
        const values = { global: { hub: "docker.io/istio", tag: "1.3.3" } };
        assert.deepStrictEqual(violations(noLatestImage, [chartResource(values)]), []);
        assert.match(violations(noLatestImage, [chartResource({ global: { hub: "docker.io/istio" } })])[0], /do not set global.tag/);
        assert.match(violations(noLatestImage, [chartResource({ ...values, prometheus: { tag: "latest" } })])[0], /prometheus.tag is "latest"/);
    });

    it("the Istio chart must name an exact version", () => {
        assert.deepStrictEqual(violations(istioChartPinned, [chartResource({})]), []);
        assert.match(violations(istioChartPinned, [chartResource({}, { version: undefined })])[0], /version is not set/);
        assert.match(violations(istioChartPinned, [chartResource({}, { version: "~1.3" })])[0], /"~1.3" is not an exact version/);
        assert.match(violations(istioChartPinned, [chartResource({}, { fetchOpts: { repo: "http://mirror.example/charts" } })])[0], /not over https/);
        assert.deepStrictEqual(violations(istioChartPinned, [chartResource({}, { chart: "nginx-ingress", version: undefined })]), [], "only Istio's chart");
        // The program hands Helm its verified, corrected chart by path, recorded as this one.
        const byPath = (p: string) => chartResource({}, { chart: undefined, version: undefined, path: p });
        assert.ok(isIstioChart(byPath("<oslo-mesh cache>/istio-1.3.3/chart-from-tagged-source")) && !isIstioChart(byPath("/charts/istio-init")));
        assert.deepStrictEqual(violations(istioChartPinned, [byPath("<oslo-mesh cache>/istio-1.3.3/chart-from-tagged-source")]), []);
        assert.match(violations(istioChartPinned, [byPath("/tmp/istio")])[0], /comes from the path \/tmp\/istio, which names no version/);
    });
});
