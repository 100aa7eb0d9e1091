/**
 * Every port of `npm run start:cluster` follows from two: PORT (the load balancer, where clients
 * connect, as with `npm start`) and TEMPORAL_PORT (Temporal's frontend gRPC). Two copies with
 * ranges that do not overlap run side by side. deploy/temporal/config.yaml derives the Temporal
 * server's own ports from TEMPORAL_PORT in the same way.
 */
export interface ClusterPorts {
  /** HAProxy: the API as clients see it. */
  loadBalancer: number;
  /** One per API instance, behind the load balancer. */
  apis: number[];
  redis: number;
  /** Temporal frontend gRPC (TEMPORAL_ADDRESS of the API and the workers). */
  temporal: number;
  /** Temporal's Prometheus metrics. */
  temporalMetrics: number;
  postgres: number;
}

/** How many ports from PORT and from TEMPORAL_PORT a cluster uses. */
export const API_PORT_COUNT = 4;
export const TEMPORAL_PORT_COUNT = 11;

export function clusterPorts(port: number, temporalPort: number): ClusterPorts {
  return {
    loadBalancer: port,
    apis: [port + 1, port + 2],
    redis: port + 3,
    temporal: temporalPort,
    temporalMetrics: temporalPort + 9,
    postgres: temporalPort + 10,
  };
}
