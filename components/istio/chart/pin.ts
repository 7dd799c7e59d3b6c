// How istio-1.3.3.manifest.json is made: from the chart's source tree at the git tag
// (../shared/reference/istio-1.3.3/istio, or install/kubernetes/helm/istio of istio/istio at
// tag 1.3.3), through the release build's rewrites. test/istio.chart.test.ts re-makes it and
// compares; to re-pin after a deliberate change:
//   npx ts-node --transpile-only -e 'console.log(JSON.stringify(require("./components/istio/chart/pin").pinManifest("../shared/reference/istio-1.3.3/istio"), null, 2))'
import { correctChart } from "./correction";
import { ChartManifest, manifestOf } from "./manifest";
import { ISTIO_CHART, ISTIO_VERSION } from "./release";
import { chartFromTaggedSource } from "./source";

export function pinManifest(taggedSource: string): ChartManifest & { corrected: Record<string, string> } {
    const released = chartFromTaggedSource(taggedSource);
    const files = manifestOf(released);
    const afterCorrection = manifestOf(correctChart(released));
    const corrected = Object.fromEntries(Object.entries(afterCorrection).filter(([f, d]) => files[f] !== d));
    return {
        chart: ISTIO_CHART,
        version: ISTIO_VERSION,
        source: "istio/istio tag 1.3.3, install/kubernetes/helm/istio, with the rewrites of release/gcb/gcb_lib.sh update_helm (components/istio/chart/release.ts); digests of canonicalContent (manifest.ts)",
        files,
        corrected,
    };
}
