// Kubernetes v1.13 to v1.15 on the nodes, with kubeadm over SSH.
export { KubeadmCluster, KubeadmClusterArgs } from "./kubeadmCluster";
export { nodeCidrs } from "./validate";
