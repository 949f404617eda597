/**
 * The process-wide Prometheus registry. Contexts create their metrics at module level
 * against it (so building several apps in one test process never registers twice).
 */
import { collectDefaultMetrics, Registry } from 'prom-client';

export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });
