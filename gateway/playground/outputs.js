// One renderer per output kind, chosen from the output schema and the value itself,
// never from the model's name: class probabilities as sorted bars, pictures as
// pictures, a sentence picked from the input shown in its context, vectors
// summarised, lists of records as tables, everything else as plain values.

import { properties, resolve } from "./schema.js";
import { el } from "./widgets.js";

const VECTOR_MIN = 16;
const KIND = "x-modelfleet-kind";

const numbers = (values) => values.length > 0 && values.every((v) => typeof v === "number");

function isDistribution(values) {
  if (!numbers(values) || values.some((v) => v < 0 || v > 1)) return false;
  return Math.abs(values.reduce((a, b) => a + b, 0) - 1) < 1e-3;
}

export function outputKind(value, context) {
  if (typeof value === "string" && value.startsWith("data:image/")) return "image";
  if (Array.isArray(value) && isDistribution(value)) return "distribution";
  if (value && typeof value === "object" && !Array.isArray(value) && isDistribution(Object.values(value))) {
    return "distribution";
  }
  if (Array.isArray(value) && numbers(value) && value.length >= VECTOR_MIN) return "vector";
  if (typeof value === "string" && contextOf(value, context)) return "highlight";
  if (Array.isArray(value) && value.every((v) => v && typeof v === "object")) return "table";
  if (value && typeof value === "object" && !Array.isArray(value)) return "record";
  return "scalar";
}

// The input text a picked string came from, if any (answer selection's context).
function contextOf(value, context) {
  if (value.length < 2) return null;
  return Object.values(context || {}).find((text) => typeof text === "string" && text !== value && text.includes(value)) || null;
}

function percent(value) {
  return `${(value * 100).toFixed(value >= 0.995 || value < 0.001 ? 0 : 1)} %`;
}

function bars(name, value) {
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
  entries.sort((a, b) => b[1] - a[1]);
  const list = el("ol", { class: "bars", "aria-label": name.replaceAll("_", " ") });
  for (const [label, probability] of entries) {
    const bar = el("span", { class: "bar", "aria-hidden": "true" });
    bar.style.width = `${Math.max(probability * 100, 0.5)}%`;
    list.append(el("li", { "data-label": label, "data-value": probability },
      el("span", { class: "bar-label", text: label }),
      el("span", { class: "track", "aria-hidden": "true" }, bar),
      el("span", { class: "bar-value", text: percent(probability) })));
  }
  return list;
}

export function norm(vector) {
  return Math.sqrt(vector.reduce((sum, v) => sum + v * v, 0));
}

export function cosine(a, b) {
  const dot = a.reduce((sum, v, i) => sum + v * b[i], 0);
  return dot / (norm(a) * norm(b));
}

function vectorSummary(value) {
  const head = value.slice(0, 4).map((v) => v.toFixed(3)).join(", ");
  return el("p", { class: "vector", text: `${value.length} dimensions · L2 norm ${norm(value).toFixed(3)} · [${head}, …]` });
}

function highlight(value, context) {
  const text = contextOf(value, context);
  const at = text.indexOf(value);
  return el("blockquote", { class: "in-context" },
    text.slice(0, at), el("mark", { text: value }), text.slice(at + value.length));
}

function cellText(value) {
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(3);
  return typeof value === "string" ? value : JSON.stringify(value);
}

// Records as a table; inside an output list the entry's name already labels it.
function table(name, rows, caption = false) {
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const head = el("tr", {}, ...columns.map((c) => el("th", { scope: "col", text: c.replaceAll("_", " ") })));
  const body = rows.map((row) => el("tr", {}, ...columns.map((c) => el("td", { text: cellText(row[c]) }))));
  const title = caption ? el("caption", { text: name.replaceAll("_", " ") }) : null;
  return el("div", { class: "scroll" },
    el("table", { "aria-label": name.replaceAll("_", " ") }, title, el("thead", {}, head), el("tbody", {}, ...body)));
}

const RENDERERS = {
  image: (name, value) => el("img", { class: "picture", src: value, alt: name.replaceAll("_", " ") }),
  distribution: bars,
  vector: (name, value) => vectorSummary(value),
  highlight: (name, value, context) => highlight(value, context),
  table,
  record: (name, value, context, schema) => renderOutput(value, schema, context),
  scalar: (name, value) => el("span", { class: "value", text: cellText(value) }),
};

// One output object as a definition list, its properties in the schema's order. A
// class mask (`x-modelfleet-kind: mask`) is drawn over its sibling picture instead.
export function renderOutput(output, schema, context) {
  const described = properties(schema || {}).map((p) => p.name);
  const property = (name) => resolve((schema?.properties || {})[name], schema || {});
  let names = [...described, ...Object.keys(output).filter((n) => !described.includes(n))];
  const list = el("dl", { class: "output" });
  const mask = names.find((n) => property(n)[KIND] === "mask" && typeof output[n] === "string");
  if (mask) {
    const base = names.find((n) => n !== mask && outputKind(output[n]) === "image");
    list.append(segmentation(output, mask, base, property(mask)));
    names = names.filter((n) => n !== mask && n !== base);
  }
  for (const name of names.filter((n) => n in output)) {
    const value = output[name];
    const kind = outputKind(value, context);
    const shown = RENDERERS[kind](name, value, context, property(name));
    list.append(el("div", { class: `entry kind-${kind}`, "data-name": name, "data-kind": kind },
      el("dt", { text: name.replaceAll("_", " "), title: property(name).description }), el("dd", {}, shown)));
  }
  return list;
}

// Several outputs for several inputs (bulk, or several files): one card each,
// the input's picture beside its answer; texts' vectors compared pairwise.
export function renderMany(outputs, schema, inputs, pictures = []) {
  const cards = outputs.map((output, i) => el("article", { class: "card" },
    el("h3", { text: outputs.length > 1 ? `#${i + 1}` : "answer" }),
    pictures[i] ? el("img", { class: "input-picture", src: pictures[i], alt: `input ${i + 1}` }) : null,
    renderOutput(output, schema, inputs[i])));
  const found = similarities(outputs);
  return el("div", { class: "results" }, ...cards, found);
}

function similarities(outputs) {
  if (outputs.length < 2) return null;
  const field = Object.keys(outputs[0]).find((n) => outputKind(outputs[0][n]) === "vector");
  if (!field) return null;
  const rows = [];
  for (let i = 0; i < outputs.length; i++) {
    for (let j = i + 1; j < outputs.length; j++) {
      rows.push({ a: `#${i + 1}`, b: `#${j + 1}`, cosine_similarity: cosine(outputs[i][field], outputs[j][field]) });
    }
  }
  return el("section", { class: "similarity" }, table(`cosine similarity of the ${field} vectors`, rows, true));
}

// A whole answer: predict's `predictions` (one per input), or an action's one object.
export function renderAnswer(op, body, request) {
  if (op.name === "predict") return renderMany(body.predictions, op.output_schema, request.inputs, request.pictures);
  return renderOutput(body, op.output_schema, request.inputs[0]);
}

// The colours of a palette PNG (a data URL), read from its PLTE chunk.
export function paletteOf(dataUrl) {
  const bytes = Uint8Array.from(atob(dataUrl.split(",")[1]), (c) => c.charCodeAt(0));
  const view = new DataView(bytes.buffer);
  for (let at = 8; at + 8 <= bytes.length;) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.slice(at + 4, at + 8));
    if (type === "PLTE") {
      const colours = [];
      for (let i = 0; i < length; i += 3) {
        const [r, g, b] = bytes.slice(at + 8 + i, at + 11 + i);
        colours.push(`#${[r, g, b].map((v) => v.toString(16).padStart(2, "0")).join("")}`);
      }
      return colours;
    }
    at += length + 12;
  }
  return [];
}

// A segmentation: the picture with the class mask over it (toggled), and a legend of
// the classes present from the records that carry each class's mask `index`.
function segmentation(output, mask, base, schema) {
  const layer = el("img", { class: "mask-layer", src: output[mask], alt: `${mask.replaceAll("_", " ")}: class per pixel`, hidden: true });
  const picture = el("img", { class: "picture", src: base ? output[base] : output[mask], alt: (base || mask).replaceAll("_", " ") });
  const toggle = el("input", { type: "checkbox", id: `mask-${Math.random().toString(36).slice(2)}` });
  toggle.addEventListener("change", () => { layer.hidden = !toggle.checked; });
  const records = Object.values(output).find((v) => Array.isArray(v) && v.length && v.every((r) => Number.isInteger(r?.index)));
  const palette = paletteOf(output[mask]);
  const total = (records || []).reduce((sum, r) => sum + (r.pixels || 0), 0);
  const legend = el("ul", { class: "legend", "aria-label": "classes" }, ...(records || []).map((record) => {
    const swatch = el("span", { class: "swatch", "aria-hidden": "true" });
    swatch.style.background = palette[record.index] || "transparent";
    const area = record.pixels && total ? ` · ${record.pixels} px (${percent(record.pixels / total)})` : "";
    return el("li", { "data-index": record.index, "data-colour": palette[record.index] || "" },
      swatch, el("span", { text: `${record.label ?? record.index}${area}` }));
  }));
  return el("div", { class: "segmentation", "data-name": mask, title: schema.description },
    el("div", { class: "layers" }, picture, layer),
    el("span", { class: "choice" }, toggle, el("label", { for: toggle.id, text: "show the class mask" })),
    legend);
}
