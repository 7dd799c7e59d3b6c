// The API versions of the Istio 1.3 kinds the mesh declares, apart from their resource classes:
// the pure render functions (components/mesh/render.ts) name them too, and so does the
// configuration check that `npm run plan` runs before it loads Pulumi's SDKs (plan/preflight.ts).
export const NETWORKING_API_VERSION = "networking.istio.io/v1alpha3";
export const AUTHENTICATION_API_VERSION = "authentication.istio.io/v1alpha1";
