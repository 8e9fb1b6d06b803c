// The playground: lists the gateway's models and sends JSON requests through it.
// Plain DOM code, no dependencies; every value from the server is set as text.
"use strict";

const $ = (id) => document.getElementById(id);

function authHeaders(extra = {}) {
  const key = $("api-key").value.trim();
  return key ? { ...extra, "X-API-Key": key } : extra;
}

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = String(text);
  row.appendChild(td);
}

function option(select, value, label) {
  const item = document.createElement("option");
  item.value = value;
  item.textContent = label;
  select.appendChild(item);
}

function showFleet(models) {
  const rows = $("versions").querySelector("tbody");
  rows.replaceChildren();
  for (const model of models) {
    for (const v of model.versions) {
      const row = document.createElement("tr");
      [model.name, v.version, v.role, v.weight, v.ready ? "yes" : "no", v.guard.state]
        .forEach((text) => cell(row, text));
      rows.appendChild(row);
    }
  }
  const select = $("model");
  const chosen = select.value;
  select.replaceChildren();
  models.forEach((model) => option(select, model.name, model.name));
  if (models.some((model) => model.name === chosen)) select.value = chosen;
}

async function loadFleet() {
  const status = $("fleet-status");
  status.classList.remove("error");
  status.textContent = "loading…";
  const response = await fetch("/models", { headers: authHeaders() });
  const answer = await response.json();
  if (!response.ok) {
    status.classList.add("error");
    status.textContent = `${response.status}: ${answer.error}`;
    return;
  }
  window.fleet = answer.models;
  showFleet(answer.models);
  status.textContent = `${answer.models.length} model(s), routes ${answer.routes.sha256.slice(0, 12)}`;
  await modelChanged();
}

async function modelChanged() {
  const name = $("model").value;
  const model = (window.fleet || []).find((m) => m.name === name);
  const pin = $("version");
  pin.replaceChildren();
  option(pin, "", "weighted split");
  (model ? model.versions : []).forEach((v) => option(pin, v.version, v.version));
  if (name) await loadExample(name);
}

async function loadExample(name) {
  // The stable version's metadata carries the input schema with its examples.
  const response = await fetch(`/models/${encodeURIComponent(name)}`, { headers: authHeaders() });
  const meta = response.ok ? await response.json() : {};
  const examples = (meta.input_schema && meta.input_schema.examples) || [{}];
  $("body").value = JSON.stringify(examples[0], null, 2);
}

function showAnswer(response, text, started) {
  $("status").textContent = `${response.status} ${response.statusText}`;
  $("answered-by").textContent = response.headers.get("X-Model-Version") || "–";
  $("request-id").textContent = response.headers.get("X-Request-Id") || "–";
  $("latency").textContent = `${Math.round(performance.now() - started)} ms`;
  let shown = text;
  try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (_) { /* not JSON */ }
  $("output").textContent = shown;
  $("output").classList.toggle("error", !response.ok);
}

async function send(event) {
  event.preventDefault();
  const output = $("output");
  let body;
  try {
    body = JSON.stringify(JSON.parse($("body").value));
  } catch (problem) {
    output.classList.add("error");
    output.textContent = `The body is not valid JSON: ${problem.message}`;
    return;
  }
  const headers = authHeaders({ "Content-Type": "application/json" });
  if ($("version").value) headers["X-Model-Version"] = $("version").value;
  const path = `/models/${encodeURIComponent($("model").value)}/${encodeURIComponent($("action").value)}`;
  const started = performance.now();
  const response = await fetch(path, { method: "POST", headers, body });
  showAnswer(response, await response.text(), started);
}

$("refresh").addEventListener("click", loadFleet);
$("model").addEventListener("change", modelChanged);
$("predict-form").addEventListener("submit", send);
loadFleet();
