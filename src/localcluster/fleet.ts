// The simulated GPU fleet of the local control plane: fake Nodes that kwok keeps Ready (they carry
// the annotation kwok.x-k8s.io/node=fake, the selector kwok runs with). GPU nodes look like nodes
// with the NVIDIA device plugin and GPU feature discovery: the GPU resource in capacity and
// allocatable, the nvidia.com/gpu.* labels, and the nvidia.com/gpu=present:NoSchedule taint.

/** One group of identical nodes. */
export type NodePoolSpec = {
  /** Node names are `${name}-${index}`. */
  name: string;
  count: number;
  cpu: string;
  memory: string;
  pods?: number;
  gpu?: {
    /** Extended resources and their count per node, e.g. { "nvidia.com/gpu": 8 } or { "nvidia.com/mig-1g.10gb": 7 }. */
    resources: Record<string, number>;
    /** Value of the nvidia.com/gpu.product label. */
    product: string;
    /** Memory per GPU in MiB (label nvidia.com/gpu.memory). */
    memoryMiB: number;
    /** Physical GPUs on the node (label nvidia.com/gpu.count); defaults to the nvidia.com/gpu resource count. */
    count?: number;
  };
  labels?: Record<string, string>;
  /** Extra taints; GPU pools always get nvidia.com/gpu=present:NoSchedule. */
  taints?: { key: string; value?: string; effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute" }[];
};

export type FleetSpec = { pools: NodePoolSpec[] };

export const KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node";
export const GPU_TAINT = { key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" } as const;

export const DEFAULT_FLEET: FleetSpec = {
  pools: [
    {
      name: "h100",
      count: 2,
      cpu: "192",
      memory: "2Ti",
      gpu: { resources: { "nvidia.com/gpu": 8 }, product: "NVIDIA-H100-80GB-HBM3", memoryMiB: 81559 },
    },
    {
      name: "l4",
      count: 1,
      cpu: "48",
      memory: "192Gi",
      gpu: { resources: { "nvidia.com/gpu": 4 }, product: "NVIDIA-L4", memoryMiB: 23034 },
    },
    {
      name: "a100-mig",
      count: 1,
      cpu: "128",
      memory: "1Ti",
      gpu: {
        resources: { "nvidia.com/mig-1g.10gb": 7 },
        product: "NVIDIA-A100-SXM4-80GB",
        memoryMiB: 81920,
        count: 1,
      },
      labels: { "nvidia.com/mig.strategy": "mixed", "nvidia.com/mig.config": "all-1g.10gb" },
    },
    { name: "cpu", count: 2, cpu: "32", memory: "128Gi" },
  ],
};

/** Total of each extended resource in a fleet, e.g. { "nvidia.com/gpu": 20, ... }. */
/** A fleet of `count` identical 8 × H100 nodes, each taking 110 pods: for runs at scale (bench, chaos). */
export const h100Fleet = (count: number): FleetSpec => ({
  pools: [
    {
      name: "gpu",
      count,
      cpu: "192",
      memory: "2Ti",
      pods: 110,
      gpu: { resources: { "nvidia.com/gpu": 8 }, product: "NVIDIA-H100-80GB-HBM3", memoryMiB: 81559 },
    },
  ],
});

export const fleetResourceTotals = (fleet: FleetSpec): Record<string, number> => {
  const totals: Record<string, number> = {};
  for (const pool of fleet.pools) {
    for (const [name, n] of Object.entries(pool.gpu?.resources ?? {})) totals[name] = (totals[name] ?? 0) + n * pool.count;
  }
  return totals;
};

export type NodeManifest = {
  apiVersion: "v1";
  kind: "Node";
  metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: { taints?: { key: string; value?: string; effect: string }[] };
  status: { allocatable: Record<string, string>; capacity: Record<string, string> };
};

/** The Node objects of a fleet, ready to be created. */
export const fleetNodes = (fleet: FleetSpec): NodeManifest[] =>
  fleet.pools.flatMap((pool) =>
    Array.from({ length: pool.count }, (_, i): NodeManifest => {
      const name = `${pool.name}-${i}`;
      const resources: Record<string, string> = { cpu: pool.cpu, memory: pool.memory, pods: String(pool.pods ?? 110), "ephemeral-storage": "1Ti" };
      const labels: Record<string, string> = {
        type: "kwok",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "node.kubernetes.io/instance-type": `kwok-${pool.name}`,
        "modelservice.dev/pool": pool.name,
        ...pool.labels,
      };
      const taints = [...(pool.taints ?? [])];
      if (pool.gpu) {
        for (const [res, n] of Object.entries(pool.gpu.resources)) resources[res] = String(n);
        labels["nvidia.com/gpu.present"] = "true";
        labels["nvidia.com/gpu.product"] = pool.gpu.product;
        labels["nvidia.com/gpu.memory"] = String(pool.gpu.memoryMiB);
        labels["nvidia.com/gpu.count"] = String(pool.gpu.count ?? pool.gpu.resources["nvidia.com/gpu"] ?? 0);
        if (!taints.some((t) => t.key === GPU_TAINT.key)) taints.push({ ...GPU_TAINT });
      }
      return {
        apiVersion: "v1",
        kind: "Node",
        metadata: { name, labels, annotations: { [KWOK_NODE_ANNOTATION]: "fake", "node.alpha.kubernetes.io/ttl": "0" } },
        spec: taints.length > 0 ? { taints } : {},
        status: { allocatable: { ...resources }, capacity: { ...resources } },
      };
    }),
  );
