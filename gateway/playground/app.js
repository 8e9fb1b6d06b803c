// The playground: the fleet table (refreshing itself), a model picker, and one tab
// per operation the chosen model declares, each built from the model's metadata
// (`GET /models/{name}`: operations with schemas, limits). No per-model code.
// Every value from the server is set as text, never as HTML.

import * as api from "./api.js";
import { operationPanel } from "./operation.js";
import { tabList } from "./tabs.js";
import { el } from "./widgets.js";

const REFRESH_MS = 5000;
const $ = (id) => document.getElementById(id);
const fleet = { models: [], limit: Infinity, shown: "" };

function cells(values) {
  return el("tr", {}, ...values.map((value) => el("td", { text: String(value) })));
}

function showFleet(models) {
  const rows = models.flatMap((model) => model.versions.map((v) => {
    const row = cells([model.name, v.version, v.role, v.weight, v.ready ? "ready" : "not ready", v.guard.state]);
    row.classList.toggle("unready", !v.ready);
    return row;
  }));
  $("versions").querySelector("tbody").replaceChildren(...rows);
  const select = $("model");
  const chosen = select.value || new URLSearchParams(location.hash.slice(1)).get("model");
  const names = models.map((m) => m.name);
  if (names.join() !== [...select.options].map((o) => o.value).join()) {
    select.replaceChildren(...names.map((name) => el("option", { value: name, text: name })));
  }
  if (names.includes(chosen)) select.value = chosen;
}

async function refreshFleet() {
  const status = $("fleet-status");
  let answer;
  try {
    answer = await api.getJSON("/models");
  } catch (problem) {
    status.textContent = `the gateway did not answer: ${problem.message}`;
    return false;
  }
  const { response, body } = answer;
  status.classList.toggle("error", !response.ok);
  if (response.status === 401) {
    $("key-note").textContent = `This gateway needs an API key: ${body?.error || "401"}`;
    status.textContent = "Enter an API key to see the models.";
    return false;
  }
  if (!response.ok) {
    status.textContent = `${response.status}: ${body?.error || response.statusText}`;
    return false;
  }
  $("key-note").textContent = "";
  fleet.models = body.models;
  fleet.limit = body.limits?.maxBodyBytes ?? Infinity;
  showFleet(body.models);
  status.textContent = `${body.models.length} model(s) · updated ${new Date().toLocaleTimeString()}`;
  return true;
}

async function showModel() {
  const name = $("model").value;
  if (!name || name === fleet.shown) return;
  fleet.shown = name;
  history.replaceState(null, "", `#model=${encodeURIComponent(name)}`);
  const { response, body } = await api.getJSON(`/models/${encodeURIComponent(name)}`);
  if (fleet.shown !== name) return; // another model was chosen meanwhile
  const summary = $("model-summary");
  if (!response.ok || !body) {
    fleet.shown = "";
    summary.textContent = `metadata of ${name}: ${response.status} ${body?.error || ""}`;
    return;
  }
  $("model-title").textContent = `${body.name} ${body.version}`;
  summary.textContent = `${body.framework} · created ${body.created_at || "?"} · sha256 ${String(body.artifact_sha256 || "").slice(0, 12)}`;
  const versions = fleet.models.find((m) => m.name === name)?.versions || [];
  const limit = Math.min(fleet.limit, body.limits?.max_body_bytes ?? Infinity);
  const items = body.operations.map((op) => ({
    label: op.name,
    panel: operationPanel({ model: name, op, versions, limit }),
  }));
  tabList($("operations"), items, $("operation"));
}

async function start() {
  api.restoreKey();
  if (await refreshFleet()) await showModel();
}

$("api-key").addEventListener("change", async () => {
  if (!api.rememberKey()) return;
  fleet.shown = "";
  await start();
});
$("model").addEventListener("change", showModel);
setInterval(() => { if (!document.hidden) refreshFleet(); }, REFRESH_MS);
start();
