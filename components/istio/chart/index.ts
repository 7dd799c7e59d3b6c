// The Istio 1.3.3 chart handed to Helm: released, verified, corrected, cached.
import { ChartSourceOptions, defaultCacheDir } from "./source";

export { defaultCacheDir, prepareIstioChart, PreparedChart, recordedChartPath } from "./source";
export { ISTIO_CHART_REPOSITORY, ISTIO_VERSION } from "./release";

/**
 * Where this run may take the chart from. OSLO_MESH_OFFLINE=1 forbids the network (the offline
 * plan sets it): the chart then comes from the cache, or from the tagged source tree named by
 * OSLO_MESH_ISTIO_TAGGED_CHART. XDG_CACHE_HOME moves the cache.
 */
export function chartSourceOptions(repository: string, env: NodeJS.ProcessEnv = process.env): ChartSourceOptions {
    return {
        repository,
        cacheDir: defaultCacheDir(env),
        offline: env.OSLO_MESH_OFFLINE === "1",
        taggedSource: env.OSLO_MESH_ISTIO_TAGGED_CHART || undefined,
    };
}
