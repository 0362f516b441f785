import { describe, expect, it } from "vitest";
import { GPU_MESSAGE } from "../../test/support/status-fixtures.ts";
import { formatDuration, formatElapsed, quote, redact, rfc3339, toMs, truncate } from "./format.ts";
import { schedulerSummary, unschedulableReason } from "./pods.ts";

describe("format", () => {
  it.each([
    [0, "0s"],
    [45_000, "45s"],
    [192_000, "3m12s"],
    [1_800_000, "30m"],
    [90_000, "1m30s"],
    [5_400_000, "1h30m"],
    [3_600_000, "1h"],
    [3_725_000, "1h02m05s"],
  ])("formatDuration(%i) = %s", (ms, want) => expect(formatDuration(ms)).toBe(want));

  it.each([
    [10_000, "<1m"],
    [192_000, "3m"],
    [3_900_000, "1h05m"],
  ])("formatElapsed(%i) = %s", (ms, want) => expect(formatElapsed(ms)).toBe(want));

  it("reads Dates and RFC 3339 strings, writes seconds", () => {
    expect(toMs("2026-11-28T10:00:00Z")).toBe(Date.UTC(2026, 10, 28, 10));
    expect(toMs(new Date("2026-11-28T10:00:00Z"))).toBe(Date.UTC(2026, 10, 28, 10));
    expect(toMs("garbage")).toBeUndefined();
    expect(rfc3339(Date.UTC(2026, 10, 28, 10, 0, 0, 750))).toBe("2026-11-28T10:00:00Z");
  });

  it("truncates and quotes within bounds, keeping the end of long messages", () => {
    expect(truncate("x".repeat(2000)).length).toBe(1024);
    const q = quote(`start ${"a ".repeat(500)} root cause: not found`, 120);
    expect(q.length).toBeLessThanOrEqual(120);
    expect(q).toMatch(/^start .* … .*root cause: not found$/);
  });
});

describe("redact", () => {
  it.each([
    ["token=hf_abcdefghijklmnopqrstuvwxyz0123", "hf_abcdefghijklmnopqrstuvwxyz0123"],
    ["using hf_abcdefghijklmnopqrstuvwxyz0123 to download", "hf_abcdefghijklmnopqrstuvwxyz0123"],
    ["AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"],
    ["key AKIAIOSFODNN7EXAMPLE rejected", "AKIAIOSFODNN7EXAMPLE"],
    ['{"password": "hunter2"}', "hunter2"],
    ["Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc", "eyJhbGciOiJIUzI1NiJ9"],
    ["s3://user:pa55word@minio.local/bucket", "pa55word"],
  ])("removes the value from %s", (input, secret) => {
    expect(redact(input)).not.toContain(secret);
    expect(redact(input)).toContain("[redacted]");
  });

  it("leaves ordinary messages and image digests alone", () => {
    const m = 'Back-off pulling image "vllm/vllm-openai@sha256:4c2a9f0e8b7d6c5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0"';
    expect(redact(m)).toBe(m);
    expect(redact(GPU_MESSAGE)).toBe(GPU_MESSAGE);
  });
});

describe("scheduler messages", () => {
  it.each([
    [GPU_MESSAGE, "InsufficientGPU"],
    ["0/2 nodes are available: 2 Insufficient nvidia.com/gpu.", "InsufficientGPU"],
    ["0/5 nodes are available: 5 node(s) didn't match Pod's node affinity/selector.", "NoMatchingNode"],
    ["0/5 nodes are available: 5 node(s) didn't match node selector.", "NoMatchingNode"],
    ["0/3 nodes are available: 3 node(s) had untolerated taint {dedicated: inference}.", "TaintNotTolerated"],
    ["0/3 nodes are available: 3 node(s) had taint {dedicated: inference}, that the pod didn't tolerate.", "TaintNotTolerated"],
    ["0/3 nodes are available: 2 node(s) had untolerated taint {a: b}, 1 node(s) didn't match Pod's node affinity/selector.", "TaintNotTolerated"],
    ["0/3 nodes are available: 3 Insufficient cpu.", "Unschedulable"],
    ["0/3 nodes are available: 3 Insufficient nvidia.com/gpu-shared.", "Unschedulable"],
  ])("%s -> %s", (message, reason) => expect(unschedulableReason(message, "nvidia.com/gpu")).toBe(reason));

  it("summary drops the preemption part", () => {
    expect(schedulerSummary(GPU_MESSAGE)).toBe(
      "0/6 nodes are available: 2 Insufficient nvidia.com/gpu, 2 node(s) had untolerated taint {nvidia.com/gpu: present}, 2 node(s) didn't match Pod's node affinity/selector",
    );
  });
});
