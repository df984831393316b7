-- Argo CD health check for oda.tmforum.org/ExposedAPI as exposedapi-apim reports it (docs/gitops.md, docs/status.md).
-- Install: merge argocd-cm-patch.yaml (generated from this file) into Argo CD's argocd-cm ConfigMap.
--
-- The verdict is the operator's own: the dispatcher's Ready and Stalled conditions, read only when they describe the
-- change that is stored now (their specHash equals the exposedapi-apim.io/spec-hash annotation the mutating webhook
-- stamps). The ODA CRD has no status subresource, so metadata.generation moves with every status write and no
-- observedGeneration exists to compare with.
--   Healthy      Ready True for the current change: the API is published in APIM.
--   Degraded     nothing more happens until someone acts: the Job failed for good, or another ExposedAPI holds the
--                path or apiId (Stalled True; Ready False JobFailed / PathConflict / ApiIdConflict from an operator
--                version without Stalled).
--   Progressing  anything else: not admitted by the webhook yet, the change waits for its Job, a Job runs, a step
--                fails while its Job retries, a retry is scheduled.
-- Argo CD runs the script with the base and table libraries only (no string library): comparisons and `..` only.

local SPEC_HASH = "exposedapi-apim.io/spec-hash"
-- Ready False reasons that wait for a person (core/exposedapi-status.ts STALLED_REASONS).
local STALLED_REASONS = { JobFailed = true, PathConflict = true, ApiIdConflict = true, TargetNotFound = true, TargetInvalid = true, TargetAmbiguous = true, TargetNotAllowed = true }

-- The first condition of a type, as the operator reads its own.
local function condition(conditionType)
  if type(obj.status) ~= "table" or type(obj.status.conditions) ~= "table" then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if type(c) == "table" and c.type == conditionType then
      return c
    end
  end
  return nil
end

local function text(value)
  if value == nil then
    return ""
  end
  return tostring(value)
end

-- "Reason: message", the way kubectl describe shows a condition.
local function says(c)
  if text(c.message) == "" then
    return text(c.reason)
  end
  return text(c.reason) .. ": " .. text(c.message)
end

local hs = {}
local metadata = obj.metadata or {}
local hash = nil
if type(metadata.annotations) == "table" then
  hash = metadata.annotations[SPEC_HASH]
end

if metadata.deletionTimestamp ~= nil then
  -- Argo CD answers "Pending deletion" itself before it runs a health script; other readers of this script get this.
  local blocked = condition("DeleteBlocked")
  if blocked ~= nil and blocked.status == "True" then
    hs.status = "Degraded"
    hs.message = says(blocked)
  else
    hs.status = "Progressing"
    hs.message = "Being deleted: the operator removes the API from APIM first"
  end
  return hs
end

if hash == nil or hash == "" then
  hs.status = "Progressing"
  hs.message = "Not admitted by the exposedapi-apim webhook (no " .. SPEC_HASH .. " annotation): is the operator installed, and does its webhook select this namespace?"
  return hs
end

local ready = condition("Ready")
if ready == nil or ready.specHash ~= hash then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report on the current change (spec hash " .. hash .. ")"
  return hs
end

if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = text(ready.message)
  return hs
end

local stalled = condition("Stalled")
if (stalled ~= nil and stalled.status == "True" and stalled.specHash == hash) or (ready.status == "False" and STALLED_REASONS[ready.reason]) then
  hs.status = "Degraded"
  hs.message = says(ready)
  return hs
end

hs.status = "Progressing"
hs.message = says(ready)
local progressing = condition("Progressing")
if progressing ~= nil and progressing.status == "True" then
  hs.message = hs.message .. " (Job " .. text(progressing.message) .. " running)"
end
return hs
