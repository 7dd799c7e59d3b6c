// The Istio 1.3.3 control plane.
export { IstioControlPlane, IstioControlPlaneArgs } from "./istioControlPlane";
export { ingressPorts } from "./values";
