// Mesh policy: the emitted objects against what Istio 1.3.3 publishes, and the components
// under mocks (each custom resource waits for its CRD and namespace, and for nothing else).
import * as assert from "assert";
import * as jsyaml from "js-yaml";
import * as k8s from "@pulumi/kubernetes";
import { hostsOverlap } from "../components/mesh/grammar";
import { CanaryConfig, MtlsConfig, renderCanary, renderIngress, renderMeshMtls } from "../components/mesh/render";
import { CanaryRoute, IngressRoute, MeshMtls } from "../components/mesh";
import { IstioControlPlane } from "../components/istio";
import { MockRecorder, settled, startMockRuntime } from "../plan/mocks";
import { parsedConfig, problemsOf, stackFileConfig } from "./harness";

// Published objects of the istio/istio repository at tag 1.3.3, quoted as data for comparison.
const SAMPLES = {
    // samples/bookinfo/networking/virtual-service-reviews-90-10.yaml
    reviews9010: `
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
    - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v1
      weight: 90
    - destination:
        host: reviews
        subset: v2
      weight: 10`,
    // samples/bookinfo/networking/virtual-service-reviews-jason-v2-v3.yaml
    reviewsJason: `
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
  - reviews
  http:
  - match:
    - headers:
        end-user:
          exact: jason
    route:
    - destination:
        host: reviews
        subset: v2
  - route:
    - destination:
        host: reviews
        subset: v3`,
    // samples/bookinfo/networking/virtual-service-reviews-v3.yaml
    reviewsV3: `
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
    - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v3`,
    // samples/bookinfo/networking/destination-rule-reviews.yaml
    reviewsRule: `
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
  trafficPolicy:
    loadBalancer:
      simple: RANDOM
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
  - name: v3
    labels:
      version: v3`,
    // samples/bookinfo/networking/destination-rule-all-mtls.yaml, the reviews rule
    reviewsRuleMtls: `
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
  trafficPolicy:
    tls:
      mode: ISTIO_MUTUAL
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
  - name: v3
    labels:
      version: v3`,
    // install/kubernetes/helm/istio/charts/security/templates/enable-mesh-mtls.yaml (Helm labels left out)
    meshStrict: `
apiVersion: "authentication.istio.io/v1alpha1"
kind: "MeshPolicy"
metadata:
  name: "default"
spec:
  peers:
  - mtls: {}
---
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: "default"
  namespace: istio-system
spec:
  host: "*.local"
  trafficPolicy:
    tls:
      mode: ISTIO_MUTUAL
---
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: "api-server"
  namespace: istio-system
spec:
  host: "kubernetes.default.svc.cluster.local"
  trafficPolicy:
    tls:
      mode: DISABLE`,
    // install/kubernetes/helm/istio/charts/security/templates/enable-mesh-permissive.yaml (Helm labels left out)
    meshPermissive: `
apiVersion: "authentication.istio.io/v1alpha1"
kind: "MeshPolicy"
metadata:
  name: "default"
spec:
  peers:
  - mtls:
      mode: PERMISSIVE`,
    // samples/bookinfo/networking/bookinfo-gateway.yaml, whole
    bookinfoGateway: `
apiVersion: networking.istio.io/v1alpha3
kind: Gateway
metadata:
  name: bookinfo-gateway
spec:
  selector:
    istio: ingressgateway # use istio default controller
  servers:
  - port:
      number: 80
      name: http
      protocol: HTTP
    hosts:
    - "*"
---
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata:
  name: bookinfo
spec:
  hosts:
  - "*"
  gateways:
  - bookinfo-gateway
  http:
  - match:
    - uri:
        exact: /productpage
    - uri:
        prefix: /static
    - uri:
        exact: /login
    - uri:
        exact: /logout
    - uri:
        prefix: /api/v1/products
    route:
    - destination:
        host: productpage
        port:
          number: 9080`,
};
const sample = (key: keyof typeof SAMPLES) => jsyaml.loadAll(SAMPLES[key]) as Array<Record<string, any>>;
const plain = (o: unknown) => JSON.parse(JSON.stringify(o));
const inNamespace = (o: Record<string, any>, namespace: string) => ({ ...o, metadata: { ...o.metadata, namespace } });

const mtls = (mode: MtlsConfig["mode"], exceptions: MtlsConfig["exceptions"] = []): MtlsConfig => ({ mode, exceptions });
const reviews = (over: Partial<CanaryConfig>): CanaryConfig => ({
    service: "reviews",
    namespace: "bookinfo",
    subsets: ["v1", "v2", "v3"].map((v) => ({ name: v, labels: { version: v } })),
    weights: { v1: 90, v2: 10 },
    ...over,
});

describe("mesh: the objects equal what Istio 1.3.3 publishes for the same intent", () => {
    it("the bookinfo reviews route at 90/10", () => {
        const { virtualService } = renderCanary(reviews({ subsets: reviews({}).subsets.slice(0, 2) }), mtls("PERMISSIVE"));
        assert.deepStrictEqual(plain(virtualService), inNamespace(sample("reviews9010")[0], "bookinfo"));
    });

    it("testers matched by header go to their subset, everyone else to the promoted one", () => {
        const { virtualService } = renderCanary(reviews({ weights: { v3: 100 }, match: { headers: { "end-user": { exact: "jason" } }, subset: "v2" } }), mtls("PERMISSIVE"));
        assert.deepStrictEqual(plain(virtualService), inNamespace(sample("reviewsJason")[0], "bookinfo"));
    });

    it("promotion to 100 and rollback to 0 leave one destination without a weight", () => {
        const promoted = renderCanary(reviews({ weights: { v1: 0, v2: 0, v3: 100 } }), mtls("PERMISSIVE")).virtualService;
        assert.deepStrictEqual(plain(promoted), inNamespace(sample("reviewsV3")[0], "bookinfo"));
        const rolledBack = renderCanary(reviews({ weights: { v1: 100, v2: 0 } }), mtls("PERMISSIVE")).virtualService;
        assert.deepStrictEqual(plain(rolledBack.spec.http), [{ route: [{ destination: { host: "reviews", subset: "v1" } }] }]);
    });

    it("the reviews DestinationRule: RANDOM subsets, and ISTIO_MUTUAL under STRICT mTLS", () => {
        assert.deepStrictEqual(plain(renderCanary(reviews({ loadBalancer: "RANDOM" }), mtls("PERMISSIVE")).destinationRule), inNamespace(sample("reviewsRule")[0], "bookinfo"));
        assert.deepStrictEqual(plain(renderCanary(reviews({}), mtls("STRICT")).destinationRule), inNamespace(sample("reviewsRuleMtls")[0], "bookinfo"));
    });

    it("timeouts and bounded retries sit on every route of the service", () => {
        const { virtualService } = renderCanary(reviews({ timeout: "10s", retries: { attempts: 3, perTryTimeout: "2s", retryOn: "5xx" }, match: { headers: { "end-user": { exact: "jason" } }, subset: "v2" } }), mtls("STRICT"));
        for (const route of virtualService.spec.http!) {
            assert.strictEqual(route.timeout, "10s");
            assert.deepStrictEqual(route.retries, { attempts: 3, perTryTimeout: "2s", retryOn: "5xx" });
        }
    });

    it("mesh-wide mTLS as the 1.3 security chart renders it, STRICT and PERMISSIVE; DISABLE is no policy", () => {
        assert.deepStrictEqual(plain(renderMeshMtls(mtls("STRICT"), "cluster.local")), sample("meshStrict"));
        assert.deepStrictEqual(plain(renderMeshMtls(mtls("PERMISSIVE"), "cluster.local")), sample("meshPermissive"));
        assert.deepStrictEqual(renderMeshMtls(mtls("DISABLE"), "cluster.local"), []);
        const api = renderMeshMtls(mtls("STRICT"), "osl.internal").find((o) => o.metadata.name === "api-server")!;
        assert.strictEqual((api.spec as any).host, "kubernetes.default.svc.osl.internal");
    });

    it("an exception is a Policy without peers plus a DestinationRule with TLS off, per namespace or per service", () => {
        const objs = plain(renderMeshMtls({ mode: "STRICT", exceptions: [{ namespace: "legacy" }, { namespace: "shop", service: "payments" }] }, "cluster.local"));
        const find = (kind: string, ns: string) => objs.filter((o: any) => o.kind === kind && o.metadata.namespace === ns);
        assert.deepStrictEqual(find("Policy", "legacy"), [{ apiVersion: "authentication.istio.io/v1alpha1", kind: "Policy", metadata: { name: "default", namespace: "legacy" }, spec: {} }]);
        assert.deepStrictEqual(find("Policy", "shop")[0].spec, { targets: [{ name: "payments" }] });
        const rules = find("DestinationRule", "istio-system").filter((o: any) => o.metadata.name.startsWith("mtls-exception"));
        assert.deepStrictEqual(rules.map((r: any) => [r.spec.host, r.spec.trafficPolicy.tls.mode]), [["*.legacy.svc.cluster.local", "DISABLE"], ["payments.shop.svc.cluster.local", "DISABLE"]]);
    });

    it("the ingress Gateway is bookinfo's, with the configured hosts", () => {
        const { gateway, virtualService } = renderIngress({ hosts: ["*"], namespace: "bookinfo", service: "productpage", port: 9080 });
        const expected = inNamespace(sample("bookinfoGateway")[0], "bookinfo");
        assert.deepStrictEqual(plain(gateway), { ...expected, metadata: { ...expected.metadata, name: "productpage-gateway" } });
        assert.deepStrictEqual(plain(virtualService.spec), { hosts: ["*"], gateways: ["productpage-gateway"], http: [{ route: [{ destination: { host: "productpage", port: { number: 9080 } } }] }] });
    });

    it("bookinfo-gateway.yaml of the 1.3.3 samples, exactly, from a config with URI matches and explicit names", () => {
        const c = stackFileConfig("staging");
        (c["oslo-mesh:mesh"] as Record<string, unknown>).ingress = {
            hosts: ["*"],
            namespace: "bookinfo",
            service: "productpage",
            port: 9080,
            uris: [{ exact: "/productpage" }, { prefix: "/static" }, { exact: "/login" }, { exact: "/logout" }, { prefix: "/api/v1/products" }],
            gatewayName: "bookinfo-gateway",
            virtualServiceName: "bookinfo",
        };
        const { gateway, virtualService } = renderIngress(parsedConfig("staging", c).mesh.ingress!);
        assert.deepStrictEqual(plain([gateway, virtualService]), sample("bookinfoGateway").map((o) => inNamespace(o, "bookinfo")));
    });

    it("STRICT: the mesh-wide rule covers the cluster's own domain (Istio 1.3 names services <svc>.<ns>.svc.<domain>)", () => {
        const host = (domain: string) => (renderMeshMtls(mtls("STRICT"), domain).find((o) => o.kind === "DestinationRule" && o.metadata.name === "default")!.spec as any).host;
        assert.strictEqual(host("cluster.local"), "*.local", "as the security chart renders it");
        assert.strictEqual(host("oslo.internal"), "*.oslo.internal");
        // Pilot's hostname for a service, and Istio's wildcard matching (pkg/config/host/name.go).
        assert.ok(hostsOverlap(host("oslo.internal"), "reviews.bookinfo.svc.oslo.internal"));
        assert.ok(!hostsOverlap("*.local", "reviews.bookinfo.svc.oslo.internal"), "the chart's *.local leaves such a cluster in plaintext");
    });

    it("a canary on an excepted service or namespace carries the exception's DISABLE, in STRICT and PERMISSIVE", () => {
        for (const mode of ["STRICT", "PERMISSIVE"] as const) {
            for (const exception of [{ namespace: "bookinfo", service: "reviews" }, { namespace: "bookinfo" }]) {
                const dr = renderCanary(reviews({}), mtls(mode, [exception])).destinationRule;
                assert.deepStrictEqual(dr.spec.trafficPolicy?.tls, { mode: "DISABLE" }, `${mode} ${JSON.stringify(exception)}`);
            }
            // Another service's exception changes nothing.
            const other = renderCanary(reviews({}), mtls(mode, [{ namespace: "bookinfo", service: "ratings" }])).destinationRule;
            assert.deepStrictEqual(other.spec.trafficPolicy?.tls, mode === "STRICT" ? { mode: "ISTIO_MUTUAL" } : undefined);
        }
    });

    it("a header match to a subset the rule does not define is refused", () => {
        const c = stackFileConfig("staging");
        (c["oslo-mesh:canaries"] as any)[0].match.subset = "v9";
        assert.ok(problemsOf("staging", c).some((p) => p.startsWith("oslo-mesh:canaries[0].match.subset: \"v9\" is not a subset of this canary")));
    });
});

describe("mesh: components under mocks", () => {
    let recorder: MockRecorder;
    const cfg = parsedConfig("prod", stackFileConfig("prod"));
    before(async () => {
        recorder = await startMockRuntime({ stack: "prod", preview: false, helm: () => [] });
        const provider = new k8s.Provider("test-provider", { kubeconfig: "apiVersion: v1\nkind: Config\n" });
        const istio = new IstioControlPlane("istio", { provider, istio: cfg.istio, mtlsMode: "STRICT", chart: { path: "/nonexistent/istio-chart", recordedPath: "/nonexistent/istio-chart" }, workerIps: [], clusterDomain: "cluster.local", kubernetesVersion: "1.15.12", workersReady: [] });
        const pre = { provider, crds: istio.crds, namespaces: istio.namespaces };
        new MeshMtls("mesh-mtls", { ...pre, mtls: { mode: "STRICT", exceptions: [{ namespace: "legacy" }] }, clusterDomain: "cluster.local" });
        new CanaryRoute("canary-bookinfo-reviews", { ...pre, canary: cfg.canaries[0], mtls: mtls("STRICT") });
        new IngressRoute("ingress", { ...pre, ingress: cfg.mesh.ingress! });
        await settled();
    });

    const crdUrn = (name: string) => recorder.byName(`istio-${name}`).urn;
    const directDeps = (name: string) => recorder.byName(name).dependsOn;

    it("each custom resource waits for the CRD of its kind, its namespace and the provider, and for nothing else", () => {
        const bookinfo = recorder.byName("istio-inject-bookinfo").urn;
        const istioSystem = recorder.byName("istio-namespace").urn;
        const expect: Array<[string, string[]]> = [
            ["canary-bookinfo-reviews-virtualservice", [crdUrn("virtualservices.networking.istio.io"), bookinfo]],
            ["canary-bookinfo-reviews-destinationrule", [crdUrn("destinationrules.networking.istio.io"), bookinfo]],
            ["ingress-gateway", [crdUrn("gateways.networking.istio.io"), bookinfo]],
            ["mesh-mtls-meshpolicy-cluster-default", [crdUrn("meshpolicies.authentication.istio.io")]],
            ["mesh-mtls-destinationrule-istio-system-default", [crdUrn("destinationrules.networking.istio.io"), istioSystem]],
            // The exception's namespace is not the program's: only the CRD is waited for.
            ["mesh-mtls-policy-legacy-default", [crdUrn("policies.authentication.istio.io")]],
        ];
        // And, like every Kubernetes object, for the cluster's provider.
        const provider = recorder.byName("test-provider").urn;
        for (const [name, deps] of expect) assert.deepStrictEqual(directDeps(name), [...deps, provider].sort(), name);
    });

    it("registers typed kinds under their Istio 1.3 API groups", () => {
        assert.strictEqual(recorder.byName("canary-bookinfo-reviews-virtualservice").type, "kubernetes:networking.istio.io/v1alpha3:VirtualService");
        assert.strictEqual(recorder.byName("mesh-mtls-meshpolicy-cluster-default").type, "kubernetes:authentication.istio.io/v1alpha1:MeshPolicy");
        const vs = recorder.byName("canary-bookinfo-reviews-virtualservice").inputs as any;
        assert.deepStrictEqual(vs.spec.http[0].route.map((r: any) => [r.destination.subset, r.weight]), [["v1", 90], ["v2", 10]]);
    });

    it("PERMISSIVE to STRICT keeps the MeshPolicy's resource name: one config change, one in-place update", () => {
        const names = (mode: MtlsConfig["mode"]) => renderMeshMtls({ mode, exceptions: [] }, "cluster.local").map((o) => `${o.kind}/${o.metadata.name}`);
        assert.deepStrictEqual(names("PERMISSIVE"), ["MeshPolicy/default"]);
        assert.deepStrictEqual(names("STRICT"), ["MeshPolicy/default", "DestinationRule/default", "DestinationRule/api-server"]);
    });
});
