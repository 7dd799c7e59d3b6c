// oslo-mesh: KVM NVMe VPS nodes -> kubeadm Kubernetes -> Istio 1.3.3 -> mesh policy.
import { loadStackConfig } from "./stacks/load";

// Every configuration problem is reported here, before any resource is registered.
const config = loadStackConfig();

export const environment = config.environment;
