export { ClusterDay2, ClusterDay2Args } from "./clusterDay2";
export { VersionGate, checkVersionGate } from "./versionGate";
export { describeUpgrade } from "./upgrade/summary";
