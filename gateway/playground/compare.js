// Canary compare: one input sent to two pinned versions at once, each answer with
// its version and latency, and every value that differs between them listed.

import * as api from "./api.js";
import { renderAnswer } from "./outputs.js";
import { el } from "./widgets.js";

async function ask(request) {
  const { response, started } = await api.send(request);
  const text = await response.text();
  return { response, body: api.parse(text), text, ms: Math.round(performance.now() - started) };
}

// Leaves of a JSON value by path ("predictions.0.probabilities.setosa").
function flatten(value, path = "", out = new Map()) {
  if (value && typeof value === "object") {
    for (const [key, inner] of Object.entries(value)) flatten(inner, path ? `${path}.${key}` : key, out);
  } else {
    out.set(path, value);
  }
  return out;
}

function shown(value) {
  if (value === undefined) return "(absent)";
  return typeof value === "number" && !Number.isInteger(value) ? value.toFixed(4) : String(value);
}

function differences(a, b) {
  const left = flatten(a);
  const right = flatten(b);
  const paths = [...new Set([...left.keys(), ...right.keys()])];
  return { paths, differ: paths.filter((p) => left.get(p) !== right.get(p)), left, right };
}

function column(request, result, op) {
  const version = result.response.headers.get("X-Model-Version") || request.headers["X-Model-Version"];
  const heading = el("h4", { text: `${version} · ${result.response.status} · ${result.ms} ms` });
  const body = result.response.ok && result.body
    ? renderAnswer(op, result.body, request)
    : el("p", { class: "error", text: result.body?.error || result.text.slice(0, 500) });
  return el("div", { class: "side", "data-version": version }, heading, body);
}

export async function renderComparison(requests, op) {
  const results = await Promise.all(requests.map(ask));
  const sides = requests.map((request, i) => column(request, results[i], op));
  const { paths, differ, left, right } = differences(results[0].body, results[1].body);
  for (const side of sides) {
    for (const entry of side.querySelectorAll(".entry")) {
      if (differ.some((path) => path.split(".").includes(entry.dataset.name))) entry.classList.add("differs");
    }
  }
  const [a, b] = sides.map((side) => side.dataset.version);
  const rows = differ.map((path) => el("tr", { class: "differs" },
    el("th", { scope: "row", text: path }), el("td", { text: shown(left.get(path)) }), el("td", { text: shown(right.get(path)) })));
  const summary = `${differ.length} of ${paths.length} values differ`;
  const table = el("div", { class: "scroll" }, el("table", { class: "diff" },
    el("caption", { text: summary }),
    el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "value" }), el("th", { scope: "col", text: a }), el("th", { scope: "col", text: b }))),
    el("tbody", {}, ...rows)));
  return el("div", {}, el("div", { class: "sides" }, ...sides), table);
}
