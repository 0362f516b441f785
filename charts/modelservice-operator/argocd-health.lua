-- Argo CD health check for modelservice.dev/ModelService (argocd-cm key
-- resource.customizations.health.modelservice.dev_ModelService). Plain Lua 5.1 (Argo CD runs
-- gopher-lua) using only the base and table libraries: Argo CD opens no others (no string, no math)
-- for health checks configured in argocd-cm.
--
-- Reads the kstatus-style status the operator writes (observedGeneration, conditions Ready,
-- Reconciling and Stalled, phase):
--   Progressing  no status yet, status or Ready older than metadata.generation, Reconciling=True,
--                or Ready=False while the model is on its way (Pending, Scheduling, Loading, ...)
--   Degraded     Stalled=True, phase Failed, or Ready=False with a failure reason (below)
--   Suspended    Ready=True with reason ScaledToZero (KEDA scaled it to zero; healthy but idle)
--   Healthy      Ready=True for the current generation
-- The message is the Ready condition's message, so the Argo CD UI says why.
local hs = {}

-- Ready=False reasons that need someone to act; any other reason counts as still progressing.
local failureReasons = {
  InsufficientGPU = true,
  NoMatchingNode = true,
  TaintNotTolerated = true,
  QuotaExceeded = true,
  ImagePullFailed = true,
  CrashLoop = true,
  OOMKilled = true,
  CredentialsMissing = true,
  StartupTimeout = true,
  InvalidSpec = true,
  Failed = true,
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

local ready, reconciling, stalled = nil, nil, nil
if status.conditions ~= nil then
  for _, c in ipairs(status.conditions) do
    if c.type == "Ready" then
      ready = c
    elseif c.type == "Reconciling" then
      reconciling = c
    elseif c.type == "Stalled" then
      stalled = c
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

if ready.status == "False" and (status.phase == "Failed" or failureReasons[ready.reason] == true) then
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
  return hs
end

hs.status = "Progressing"
hs.message = conditionMessage(ready, "Waiting for the model to become ready")
return hs
