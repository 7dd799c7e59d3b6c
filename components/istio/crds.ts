// The 23 CustomResourceDefinitions of Istio 1.3.3 (istio-init chart, files/crd-10/11/12.yaml),
// as tracked resources instead of the chart's fire-and-forget Jobs. test/istio.test.ts proves
// this table renders exactly the release's definitions.

/** apiextensions.k8s.io/v1beta1: Kubernetes 1.13 to 1.15 have no v1. */
export const CRD_API_VERSION = "apiextensions.k8s.io/v1beta1";

export interface PrinterColumn {
    readonly JSONPath: string;
    readonly description: string;
    readonly name: string;
    readonly type: string;
}

export interface IstioCrd {
    readonly group: string;
    readonly version: string;
    readonly kind: string;
    readonly plural: string;
    readonly scope: "Namespaced" | "Cluster";
    readonly categories: ReadonlyArray<string>;
    readonly listKind?: boolean;
    readonly shortNames?: ReadonlyArray<string>;
    readonly columns?: ReadonlyArray<PrinterColumn>;
    /** The release's identifying labels (without Helm's chart/heritage/release). */
    readonly labels: Readonly<Record<string, string>>;
}

const AGE: PrinterColumn = {
    JSONPath: ".metadata.creationTimestamp",
    description:
        "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/api-conventions.md#metadata",
    name: "Age",
    type: "date",
};
const col = (JSONPath: string, name: string, description: string): PrinterColumn => ({ JSONPath, description, name, type: "string" });

const NET = ["istio-io", "networking-istio-io"];
const RBAC = ["istio-io", "rbac-istio-io"];
const AUTHN = ["istio-io", "authentication-istio-io"];
const APIM = ["istio-io", "apim-istio-io"];
const POLICY = ["istio-io", "policy-istio-io"];
const PILOT = { app: "istio-pilot" };
const MIXER_CORE = { app: "mixer", package: "istio.io.mixer", istio: "core" };
const MIXER_RBAC = { app: "mixer", package: "istio.io.mixer", istio: "rbac" };
const mixerKind = (p: string) => ({ app: "mixer", package: p, istio: `mixer-${p}` });

const networking = (kind: string, plural: string, extra: Partial<IstioCrd> = {}): IstioCrd => ({ group: "networking.istio.io", version: "v1alpha3", kind, plural, scope: "Namespaced", categories: NET, labels: PILOT, ...extra });
const config = (kind: string, plural: string, categories: ReadonlyArray<string>, labels: Record<string, string>): IstioCrd => ({ group: "config.istio.io", version: "v1alpha2", kind, plural, scope: "Namespaced", categories, labels });
const rbac = (kind: string, plural: string, labels: Record<string, string>, extra: Partial<IstioCrd> = {}): IstioCrd => ({ group: "rbac.istio.io", version: "v1alpha1", kind, plural, scope: "Namespaced", categories: RBAC, labels, ...extra });

export const ISTIO_CRDS: ReadonlyArray<IstioCrd> = [
    networking("VirtualService", "virtualservices", {
        listKind: true,
        shortNames: ["vs"],
        columns: [col(".spec.gateways", "Gateways", "The names of gateways and sidecars that should apply these routes"), col(".spec.hosts", "Hosts", "The destination hosts to which traffic is being sent"), AGE],
    }),
    networking("DestinationRule", "destinationrules", { listKind: true, shortNames: ["dr"], columns: [col(".spec.host", "Host", "The name of a service from the service registry"), AGE] }),
    networking("ServiceEntry", "serviceentries", {
        listKind: true,
        shortNames: ["se"],
        columns: [
            col(".spec.hosts", "Hosts", "The hosts associated with the ServiceEntry"),
            col(".spec.location", "Location", "Whether the service is external to the mesh or part of the mesh (MESH_EXTERNAL or MESH_INTERNAL)"),
            col(".spec.resolution", "Resolution", "Service discovery mode for the hosts (NONE, STATIC, or DNS)"),
            AGE,
        ],
    }),
    networking("Gateway", "gateways", { shortNames: ["gw"] }),
    networking("EnvoyFilter", "envoyfilters"),
    rbac("ClusterRbacConfig", "clusterrbacconfigs", { app: "istio-pilot", istio: "rbac" }, { scope: "Cluster" }),
    { group: "authentication.istio.io", version: "v1alpha1", kind: "Policy", plural: "policies", scope: "Namespaced", categories: AUTHN, labels: { app: "istio-citadel" } },
    { group: "authentication.istio.io", version: "v1alpha1", kind: "MeshPolicy", plural: "meshpolicies", scope: "Cluster", categories: AUTHN, labels: { app: "istio-citadel" }, listKind: true },
    config("HTTPAPISpecBinding", "httpapispecbindings", APIM, { app: "istio-mixer" }),
    config("HTTPAPISpec", "httpapispecs", APIM, { app: "istio-mixer" }),
    config("QuotaSpecBinding", "quotaspecbindings", APIM, { app: "istio-mixer" }),
    config("QuotaSpec", "quotaspecs", APIM, { app: "istio-mixer" }),
    config("rule", "rules", POLICY, MIXER_CORE),
    config("attributemanifest", "attributemanifests", POLICY, MIXER_CORE),
    rbac("RbacConfig", "rbacconfigs", MIXER_RBAC),
    rbac("ServiceRole", "serviceroles", MIXER_RBAC),
    rbac("ServiceRoleBinding", "servicerolebindings", MIXER_RBAC, { columns: [col(".spec.roleRef.name", "Reference", "The name of the ServiceRole object being referenced"), AGE] }),
    config("adapter", "adapters", POLICY, mixerKind("adapter")),
    config("instance", "instances", POLICY, mixerKind("instance")),
    config("template", "templates", POLICY, mixerKind("template")),
    config("handler", "handlers", POLICY, mixerKind("handler")),
    networking("Sidecar", "sidecars"),
    rbac("AuthorizationPolicy", "authorizationpolicies", { app: "istio-pilot", istio: "rbac" }),
];

export function crdName(c: Pick<IstioCrd, "plural" | "group">): string {
    return `${c.plural}.${c.group}`;
}

/** The CustomResourceDefinition object for one entry; the provider waits until it is Established. */
export function renderCrd(c: IstioCrd): Record<string, unknown> {
    const spec: Record<string, unknown> = {
        group: c.group,
        names: {
            kind: c.kind,
            ...(c.listKind ? { listKind: `${c.kind}List` } : {}),
            plural: c.plural,
            singular: c.plural.replace(/ies$/, "y").replace(/s$/, ""),
            ...(c.shortNames ? { shortNames: [...c.shortNames] } : {}),
            categories: [...c.categories],
        },
        scope: c.scope,
        versions: [{ name: c.version, served: true, storage: true }],
    };
    if (c.columns) spec.additionalPrinterColumns = c.columns.map((x) => ({ ...x }));
    return {
        apiVersion: CRD_API_VERSION,
        kind: "CustomResourceDefinition",
        metadata: { name: crdName(c), labels: { ...c.labels }, annotations: { "pulumi.com/waitFor": "condition=Established" } },
        spec,
    };
}

/** The CRD an Istio object of this apiVersion and kind needs. */
export function crdFor(apiVersion: string, kind: string): IstioCrd {
    const [group, version] = apiVersion.split("/");
    const found = ISTIO_CRDS.find((c) => c.group === group && c.version === version && c.kind === kind);
    if (!found) throw new Error(`Istio 1.3.3 has no CRD for ${apiVersion} ${kind}`);
    return found;
}
