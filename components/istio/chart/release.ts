// The Istio 1.3.3 `istio` chart as the release published it, and what the release build
// changed in it on the way from the git tag to the chart repository.
//
// release/gcb/gcb_lib.sh at tag 1.3.3, `update_helm`, rewrites (sed) exactly this:
//   install/kubernetes/helm/istio*/values.yaml: `hub: gcr.io/istio-release` -> `hub: $DOCKER_HUB`,
//                                              `tag: *-latest-daily`        -> `tag: $VERSION`;
//   every file under install/kubernetes/helm, because Chart.yaml's appVersion (1.1.0) is not $VERSION:
//     `tag: 1.1.0` -> `tag: 1.3.3`, `version: 1.1.0` -> `version: 1.3.3`,
//     `appVersion: 1.1.0` -> `appVersion: 1.3.3`, `istio-release/releases/1.1.0` -> `.../1.3.3`;
// and `create_charts` packages the result with Helm v2 (`helm package`), which writes every
// Chart.yaml anew from its parsed fields and every other file byte for byte.

export const ISTIO_VERSION = "1.3.3";
export const ISTIO_CHART = "istio";
/** The file name in the chart repository. */
export const ISTIO_CHART_PACKAGE = `${ISTIO_CHART}-${ISTIO_VERSION}.tgz`;
/** The release's chart repository (a mirror can stand in: `istio.chartRepository`). */
export const ISTIO_CHART_REPOSITORY = `https://storage.googleapis.com/istio-release/releases/${ISTIO_VERSION}/charts/`;

/** appVersion of the chart at the git tag, which the release replaced everywhere. */
const TAGGED_VERSION = "1.1.0";

/**
 * A file of the chart at the git tag as the release build rewrote it (gcb_lib.sh `update_helm`).
 * The root values.yaml's `hub` becomes the release's registry, which the program overrides
 * (global.hub) and the manifest leaves out (see canonicalContent); `dockerHub` only fills it in.
 */
export function releaseRewrite(file: string, text: string, dockerHub = "docker.io/istio"): string {
    let out = text;
    if (file === "values.yaml") {
        out = out.replace(/hub: gcr\.io\/istio-release/g, `hub: ${dockerHub}`).replace(/tag: .*-latest-daily/g, `tag: ${ISTIO_VERSION}`);
    }
    // As sed reads the pattern: each "." matches any character.
    const v = TAGGED_VERSION;
    return out
        .replace(new RegExp(`tag: ${v}`, "g"), `tag: ${ISTIO_VERSION}`)
        .replace(new RegExp(`version: ${v}`, "g"), `version: ${ISTIO_VERSION}`)
        .replace(new RegExp(`appVersion: ${v}`, "g"), `appVersion: ${ISTIO_VERSION}`)
        .replace(new RegExp(`istio-release/releases/${v}`, "g"), `istio-release/releases/${ISTIO_VERSION}`);
}
