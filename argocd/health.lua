-- Argo CD health for modelkeys.dev ProviderConnection and Organization: reads the kstatus conditions the
-- operator writes, so Argo CD and kstatus (Flux, kpt, `kubectl wait`) give the same verdict.
-- Uses only the base library: Argo CD opens no other for a resource.customizations script.
local hs = { status = "Progressing", message = "waiting for the operator to report" }
if obj.metadata ~= nil and obj.metadata.deletionTimestamp ~= nil then
  hs.message = "being deleted"
  return hs
end
if obj.status == nil then
  return hs
end
if obj.metadata.generation ~= nil and obj.status.observedGeneration ~= obj.metadata.generation then
  hs.message = "the operator has not yet seen the latest spec"
  return hs
end
local ready = nil
local reconciling = nil
local stalled = nil
if obj.status.conditions ~= nil then
  for _, condition in ipairs(obj.status.conditions) do
    if condition.type == "Ready" then
      ready = condition
    elseif condition.type == "Reconciling" then
      reconciling = condition
    elseif condition.type == "Stalled" then
      stalled = condition
    end
  end
end
-- kstatus' order: Stalled (Failed) before Reconciling (InProgress), then healthy.
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = (stalled.reason or "") .. ": " .. (stalled.message or "")
  return hs
end
if reconciling ~= nil and reconciling.status == "True" then
  hs.status = "Progressing"
  hs.message = (reconciling.reason or "") .. ": " .. (reconciling.message or "")
  return hs
end
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message or ""
  return hs
end
-- No verdict from the operator yet (it writes Ready with Reconciling or Stalled from its first reconcile on).
return hs
