// Istio 1.3.3 on the cluster through the Kubernetes provider: its 23 CRDs as tracked
// resources (established before anything uses them), the namespaces with sidecar injection,
// and the `istio` chart of the release with typed values.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { StackConfig } from "../../stacks/schema";
import { crdName, ISTIO_CRDS, renderCrd } from "./crds";
import { ISTIO_NAMESPACE, renderIstioValues } from "./values";

/** The chart directory handed to Helm (components/istio/chart: the released chart, verified and corrected). */
export interface IstioChartSource {
    /** The directory with the chart's Chart.yaml. */
    readonly path: string;
    /** What the chart's `path` input records: the same on every machine (see recordedChartPath). */
    readonly recordedPath: string;
}

export interface IstioControlPlaneArgs {
    /** The cluster's provider (from KubeadmCluster). */
    readonly provider: k8s.Provider;
    /** `oslo-mesh:istio`. */
    readonly istio: StackConfig["istio"];
    /** The mesh-wide mTLS mode: STRICT turns on the probe rewrite. */
    readonly mtlsMode: StackConfig["mesh"]["mtls"]["mode"];
    /** The chart to install (prepareIstioChart). */
    readonly chart: IstioChartSource;
    /** The workers' static public IPs, for the ExternalIPs exposure of the ingress gateway. */
    readonly workerIps: ReadonlyArray<string>;
    /** The cluster's DNS domain. */
    readonly clusterDomain: string;
    /** The cluster's Kubernetes version, which the chart's templates are rendered for. */
    readonly kubernetesVersion: string;
    /**
     * The workers' `registered` steps (KubeadmCluster.workersReady). Istio's pods run only on
     * workers (control planes are tainted): the chart's workloads wait for every worker, so they
     * are never created with nowhere to run, and `pulumi destroy` deletes them (and their
     * disruption budgets, which would block a drain) before any worker is drained.
     */
    readonly workersReady: ReadonlyArray<pulumi.Resource>;
}

/** Kinds of the chart that run pods on the nodes, keep them there, or stop pods without them. */
const RUNS_ON_WORKERS = new Set([
    "Deployment",
    "DaemonSet",
    "StatefulSet",
    "ReplicaSet",
    "Pod",
    "Job",
    "CronJob",
    "PodDisruptionBudget",
    "HorizontalPodAutoscaler",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
]);

export class IstioControlPlane extends pulumi.ComponentResource {
    /** Each Istio CRD by its name (e.g. virtualservices.networking.istio.io), for the resources that need it. */
    readonly crds: ReadonlyMap<string, k8s.apiextensions.v1beta1.CustomResourceDefinition>;
    /** The namespaces the control plane creates (istio-system and those with sidecar injection), by name. */
    readonly namespaces: ReadonlyMap<string, k8s.core.v1.Namespace>;
    /** The chart's objects (pilot, citadel, galley, injector, gateway, Mixer, prometheus). */
    readonly chart: k8s.helm.v3.Chart;

    constructor(name: string, args: IstioControlPlaneArgs, opts?: pulumi.ComponentResourceOptions) {
        super("oslo-mesh:istio:IstioControlPlane", name, {}, opts);
        const provider = args.provider;

        const crds = new Map<string, k8s.apiextensions.v1beta1.CustomResourceDefinition>();
        for (const c of ISTIO_CRDS) {
            const obj = renderCrd(c) as unknown as k8s.apiextensions.v1beta1.CustomResourceDefinitionArgs;
            crds.set(crdName(c), new k8s.apiextensions.v1beta1.CustomResourceDefinition(`${name}-${crdName(c)}`, obj, { parent: this, provider }));
        }
        this.crds = crds;

        const namespace = new k8s.core.v1.Namespace(`${name}-namespace`, { metadata: { name: ISTIO_NAMESPACE, labels: { "istio-injection": "disabled" } } }, { parent: this, provider });

        const namespaces = new Map<string, k8s.core.v1.Namespace>([[ISTIO_NAMESPACE, namespace]]);
        for (const ns of args.istio.injectNamespaces) {
            namespaces.set(ns, new k8s.core.v1.Namespace(`${name}-inject-${ns}`, { metadata: { name: ns, labels: { "istio-injection": "enabled" } } }, { parent: this, provider }));
        }
        this.namespaces = namespaces;

        // Plain values, known at preview: Helm renders the chart in `pulumi preview` too.
        const values = renderIstioValues({ istio: args.istio, mtlsMode: args.mtlsMode, workerIps: args.workerIps, clusterDomain: args.clusterDomain });
        // A chart's objects do not inherit the chart's dependsOn: each is told to wait for the
        // namespace and the established CRDs (the chart's Jobs and webhooks use them), and what
        // runs on the workers for the workers too. RBAC, config and services wait for no node.
        const prerequisites = [namespace, ...crds.values()];
        const onWorkers = [...prerequisites, ...args.workersReady];
        const waitForPrerequisites = (obj: { kind?: string }, o: pulumi.CustomResourceOptions) => {
            o.dependsOn = RUNS_ON_WORKERS.has(obj.kind ?? "") ? onWorkers : prerequisites;
        };
        // A v3 Chart's resource name is its Helm release name, which the chart's templates put in
        // their labels: "istio", as the upstream install names it.
        // The chart's own inputs record `recordedPath`, not this machine's cache directory, so
        // that a preview elsewhere (CI, a colleague) shows no change; Helm reads `path`.
        const recordStablePath: pulumi.ResourceTransformation = (a) =>
            a.type === "kubernetes:helm.sh/v3:Chart" ? { props: { ...a.props, path: args.chart.recordedPath }, opts: a.opts } : undefined;
        this.chart = new k8s.helm.v3.Chart(
            "istio",
            {
                path: args.chart.path,
                namespace: ISTIO_NAMESPACE,
                // Rendered client-side: tell Helm which cluster it renders for (.Capabilities.KubeVersion).
                kubeVersion: `v${args.kubernetesVersion}`,
                values,
                transformations: [waitForPrerequisites],
            },
            { parent: this, provider, dependsOn: onWorkers, transformations: [recordStablePath] },
        );
        this.registerOutputs({});
    }
}
