-- Argo CD health check for modelservice.dev/ModelService (argocd-cm key
-- resource.customizations.health.modelservice.dev_ModelService). Plain Lua 5.1 (Argo CD runs
-- gopher-lua) using only the base and table libraries: Argo CD opens no others (no string, no math)
-- for health checks configured in argocd-cm.
--
-- Reads the kstatus-style status the operator writes (observedGeneration, conditions Ready,
-- Reconciling and Stalled, phase):
--   Progressing  no status yet, status or Ready older than metadata.generation, Reconciling=True,
--                or Ready=False while the model is on its way (Pending, Scheduling, Loading, ...)
--                or waits for the cluster (a waiting reason, below) and Stalled is not True
--   Degraded     Stalled=True, or Ready=False with a failure reason (below), or phase Failed with
--                a reason not listed below (from a newer operator)
--                (Activating: KEDA woke a model scaled to zero and its replica loads)
--   Suspended    Ready=True with reason ScaledToZero (KEDA scaled it to zero; healthy but idle)
--   Healthy      Ready=True for the current generation
-- The message is the Ready condition's message, so the Argo CD UI says why; with spec.expose and
-- the Exposed condition False, its reason and message are appended (health unchanged).
local hs = {}

-- Ready=False reasons, kept equal to src/status/reasons.ts by test/unit/argocd-health.test.ts.
-- Failure reasons: replicas cannot run until someone acts (fix the spec, the image, the Secret,
-- the memory limit, the startup budget), so Degraded at once, even while Reconciling.
local failureReasons = {
  InvalidSpec = true,
  ClassViolation = true,
  ClassNotFound = true,
  ApplyFailed = true,
  NameConflict = true,
  CredentialsMissing = true,
  ContainerConfigError = true,
  ImagePullFailed = true,
  OOMKilled = true,
  CrashLoop = true,
  ContainerStartFailed = true,
  StartupTimeout = true,
  PodCreationFailed = true,
  ProgressDeadlineExceeded = true,
}
-- Waiting reasons: replicas wait for the cluster (free GPUs, a matching or tolerated node, quota
-- that other workloads release; the cluster autoscaler may be adding nodes). Progressing, like a
-- Pending Pod or a Deployment within its progress deadline in Argo CD; Degraded once the operator
-- sets Stalled=True (the Deployment's progress deadline, i.e. the startup budget, ran out).
local waitingReasons = {
  QuotaExceeded = true,
  InsufficientGPU = true,
  TaintNotTolerated = true,
  NoMatchingNode = true,
  Unschedulable = true,
}

local function conditionMessage(c, fallback)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  return fallback
end

local status = obj.status
if status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report status"
  return hs
end

local generation = nil
if obj.metadata ~= nil then
  generation = obj.metadata.generation
end
if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

local ready, reconciling, stalled, exposed = nil, nil, nil, nil
if status.conditions ~= nil then
  for _, c in ipairs(status.conditions) do
    if c.type == "Ready" then
      ready = c
    elseif c.type == "Reconciling" then
      reconciling = c
    elseif c.type == "Stalled" then
      stalled = c
    elseif c.type == "Exposed" then
      exposed = c
    end
  end
end

if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = conditionMessage(stalled, conditionMessage(ready, "Stalled: " .. tostring(stalled.reason)))
  return hs
end

if ready == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Ready condition"
  return hs
end

if generation ~= nil and ready.observedGeneration ~= nil and ready.observedGeneration < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

if ready.status == "False" and waitingReasons[ready.reason] ~= true and (failureReasons[ready.reason] == true or status.phase == "Failed") then
  hs.status = "Degraded"
  hs.message = conditionMessage(ready, tostring(ready.reason))
  return hs
end

if reconciling ~= nil and reconciling.status == "True" then
  hs.status = "Progressing"
  hs.message = conditionMessage(reconciling, conditionMessage(ready, "Reconciling"))
  return hs
end

if ready.status == "True" then
  if ready.reason == "ScaledToZero" then
    hs.status = "Suspended"
  else
    hs.status = "Healthy"
  end
  hs.message = conditionMessage(ready, "Ready")
  -- Exposed never changes the health (serving in the cluster is healthy; the route's fate is the
  -- gateway owner's), but the message says why the external URL does not work yet.
  if exposed ~= nil and exposed.status == "False" then
    hs.message = hs.message .. "; not exposed (" .. tostring(exposed.reason) .. "): " .. conditionMessage(exposed, "")
  end
  return hs
end

hs.status = "Progressing"
hs.message = conditionMessage(ready, "Waiting for the model to become ready")
return hs
