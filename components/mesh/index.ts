// Mesh policy as typed Istio 1.3 resources: mesh-wide mTLS, canary routes, the ingress.
export { MeshMtls, MeshMtlsArgs } from "./meshMtls";
export { CanaryRoute, CanaryRouteArgs } from "./canaryRoute";
export { IngressRoute, IngressRouteArgs } from "./ingressRoute";
export { MeshPrerequisites } from "./declare";
