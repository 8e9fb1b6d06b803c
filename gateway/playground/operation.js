// One operation of one model (predict, answer, ...): its form, built from the
// operation's input schema, the request it sends, and the answer shown by kind.

import * as api from "./api.js";
import { renderComparison } from "./compare.js";
import { renderAnswer, renderOutput } from "./outputs.js";
import { examplesOf, inputKind, properties } from "./schema.js";
import { tabList } from "./tabs.js";
import { buildField, el, FieldError } from "./widgets.js";

const PROGRESS_AFTER_MS = 300;
const LIVE_DELAY_MS = 250;

// `context`: {model, op, versions, limit}; returns the operation's panel.
export function operationPanel({ model, op, versions, limit }) {
  const modes = [["one", "one input"]];
  if (op.bulk && op.request === "json") modes.push(["bulk", "several inputs (bulk)"]);
  if (op.query) modes.push(["query", "query parameters (GET)"]);
  const state = { mode: "one", instances: [], controller: null };
  const prefix = `${model}-${op.name}`;
  const options = { accept: op.media_types, limit, bulk: op.bulk };

  const fieldsBox = el("div", { class: "fields" });
  const presets = el("div", { class: "presets", role: "group", "aria-label": "Presets from the schema's examples" });
  const general = el("div", { class: "request-error", role: "alert", hidden: true });
  const versionSelect = el("select", { id: `${prefix}-version` });
  versionSelect.append(el("option", { value: "", text: "weighted split" }));
  versions.forEach((v) => versionSelect.append(el("option", { value: v.version, text: `${v.version} (${v.role})` })));
  const sendButton = el("button", { type: "submit", class: "primary", text: "Send" });
  const cancelButton = el("button", { type: "button", text: "Cancel", hidden: true });
  const progress = el("div", { class: "progress", hidden: true, role: "status" },
    el("progress", { "aria-label": "waiting for the answer" }), el("span", { class: "elapsed" }));
  const answer = answerArea();

  const makeInstance = (index) => {
    const fields = properties(op.input_schema).map((p) => buildField(`${prefix}-${index}`, p, options));
    const box = state.mode === "bulk"
      ? el("fieldset", { class: "instance" }, el("legend", { text: `input #${index + 1}` }), ...fields.map((f) => f.element))
      : el("div", { class: "instance" }, ...fields.map((f) => f.element));
    return { fields, box };
  };
  const setInstances = (values) => {
    state.instances = values.map((_, i) => makeInstance(i));
    state.instances.forEach((instance, i) => instance.fields.forEach((f) => f.write(values[i][f.name])));
    const add = state.mode === "bulk"
      ? el("button", { type: "button", text: "Add an input", class: "add" }) : null;
    if (add) add.addEventListener("click", () => setInstances([...readAll(false), {}]));
    fieldsBox.replaceChildren(...state.instances.map((i) => i.box), ...(add ? [add] : []));
  };
  const examples = examplesOf(op.input_schema);
  const showPresets = () => {
    const choices = state.mode === "bulk"
      ? [["all examples", examples]]
      : examples.map((example, i) => [`example ${i + 1}`, [example]]);
    presets.replaceChildren(...(examples.length ? choices : []).map(([label, values]) => {
      const button = el("button", { type: "button", text: label, title: JSON.stringify(values.length === 1 ? values[0] : values) });
      button.addEventListener("click", () => { setInstances(values); clearErrors(); });
      return button;
    }));
  };
  const readAll = (strict = true) => state.instances.map((instance) => {
    const values = {};
    for (const field of instance.fields) {
      try {
        const value = field.read();
        if (value !== undefined) values[field.name] = value;
      } catch (problem) {
        if (strict) throw problem;
      }
    }
    return values;
  });
  const clearErrors = () => {
    state.instances.forEach((i) => i.fields.forEach((f) => f.setError("")));
    general.hidden = true;
    general.replaceChildren();
  };
  const setMode = (mode) => {
    const kept = state.instances.length ? readAll(false) : [examples[0] || {}];
    state.mode = mode;
    setInstances(mode === "bulk" ? (kept.length > 1 ? kept : examples.length ? examples : kept) : kept.slice(0, 1));
    showPresets();
  };

  const form = el("form", { class: "operation-form", novalidate: true });
  const live = liveToggle(prefix, op, form, fieldsBox, () => state.mode !== "bulk");
  const modeBox = modes.length > 1 ? modeChooser(prefix, modes, setMode) : null;
  const comparison = versions.length > 1 ? compareControls(prefix, versions) : null;
  const about = op.input_schema.description || op.summary;
  form.append(...[
    el("p", { class: "path" }, el("code", { text: `${op.query ? "POST|GET" : "POST"} /models/${model}/${op.name}` }),
      op.stream ? el("span", { class: "badge", text: "streams NDJSON" }) : null),
    about ? el("p", { class: "summary", text: about }) : null,
    modeBox, presets, fieldsBox, general,
    el("div", { class: "actions" },
      el("label", { class: "inline", for: versionSelect.id, text: "Version" }), versionSelect,
      sendButton, cancelButton, live && live.element),
    progress,
    comparison && comparison.element,
  ].filter(Boolean));

  const prepare = (pinned) => {
    clearErrors();
    try {
      return buildRequest(model, op, state, pinned);
    } catch (problem) {
      if (!(problem instanceof FieldError)) throw problem;
      showFieldErrors(state, general, [{ field: problem.field, index: 0, message: problem.message }]);
      return null;
    }
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (live) live.cancel();
    const request = prepare(versionSelect.value);
    if (!request) return;
    if (state.controller) state.controller.abort(); // a newer request replaces it
    const controller = new AbortController();
    state.controller = controller;
    const stop = waiting(progress, cancelButton, sendButton, controller);
    try {
      await exchange(request, op, state, answer, general, controller.signal, progress);
    } catch (problem) {
      if (state.controller !== controller) return;
      answer.showProblem(problem.name === "AbortError" ? "Cancelled: no answer was waited for." : `The request failed: ${problem.message}`);
    } finally {
      stop(state.controller === controller);
      if (state.controller === controller) state.controller = null;
    }
  });
  cancelButton.addEventListener("click", () => state.controller && state.controller.abort());
  if (comparison) {
    comparison.button.addEventListener("click", async () => {
      const requests = comparison.versions().map(prepare);
      if (requests.some((r) => !r)) return;
      comparison.show(await renderComparison(requests, op));
    });
  }

  setMode("one");
  return el("div", { class: "operation" }, form, answer.element);
}

// Forms of plain numbers and choices answer as the inputs move (debounced), so a
// slider shows its effect at once; forms with texts or files send on request.
function liveToggle(prefix, op, form, fieldsBox, allowed) {
  const scalar = ["range", "number", "enum", "boolean"];
  const kinds = properties(op.input_schema).map((p) => inputKind(p.schema));
  if (op.stream || !kinds.length || !kinds.every((kind) => scalar.includes(kind))) return null;
  const id = `${prefix}-live`;
  const box = el("input", { type: "checkbox", id, checked: true });
  let timer = null;
  fieldsBox.addEventListener("input", () => {
    if (!box.checked || !allowed()) return;
    clearTimeout(timer);
    timer = setTimeout(() => form.requestSubmit(), LIVE_DELAY_MS);
  });
  return {
    element: el("span", { class: "choice" }, box, el("label", { for: id, text: "send as I change it" })),
    cancel: () => clearTimeout(timer), // a click on Send has sent it already
  };
}

function modeChooser(prefix, modes, setMode) {
  const box = el("fieldset", { class: "modes" }, el("legend", { text: "Send" }));
  modes.forEach(([value, label], i) => {
    const id = `${prefix}-mode-${value}`;
    const radio = el("input", { type: "radio", name: `${prefix}-mode`, id, value, checked: i === 0 });
    radio.addEventListener("change", () => setMode(value));
    box.append(el("span", { class: "choice" }, radio, el("label", { for: id, text: label })));
  });
  return box;
}

function compareControls(prefix, versions) {
  const pick = (index, label) => {
    const select = el("select", { id: `${prefix}-compare-${index}` });
    versions.forEach((v) => select.append(el("option", { value: v.version, text: `${v.version} (${v.role})` })));
    select.value = versions[Math.min(index, versions.length - 1)].version;
    return [el("label", { for: select.id, text: label }), select];
  };
  const [labelA, first] = pick(0, "version A");
  const [labelB, second] = pick(1, "version B");
  const button = el("button", { type: "button", text: "Compare A and B" });
  const output = el("div", { class: "comparison", "aria-live": "polite" });
  const element = el("details", { class: "compare" },
    el("summary", { text: "Canary compare: the same input to two versions" }),
    el("div", { class: "actions" }, labelA, first, labelB, second, button), output);
  return {
    element, button,
    versions: () => [first.value, second.value],
    show: (shown) => { output.replaceChildren(shown); element.open = true; },
  };
}

// The request the form describes; a FieldError when a field cannot be read.
export function buildRequest(model, op, state, pinned) {
  const headers = pinned ? { "X-Model-Version": pinned } : {};
  const path = `/models/${encodeURIComponent(model)}/${encodeURIComponent(op.name)}`;
  const values = state.instances.map((instance) => {
    const read = {};
    for (const field of instance.fields) {
      const value = field.read();
      if (value !== undefined) read[field.name] = value;
    }
    return read;
  });
  if (op.request === "multipart") {
    const form = [];
    for (const [name, value] of Object.entries(values[0])) {
      if (Array.isArray(value) && value[0] instanceof File) value.forEach((file) => form.push([name, file, file.name]));
      else form.push([name, typeof value === "string" ? value : JSON.stringify(value)]);
    }
    return { method: "POST", path, headers, form, inputs: values, pictures: pictureUrls(state) };
  }
  if (state.mode === "query") {
    const query = new URLSearchParams(Object.entries(values[0]).map(([k, v]) => [k, String(v)]));
    return { method: "GET", path: `${path}?${query}`, headers, inputs: values };
  }
  const json = state.mode === "bulk" ? { instances: values } : values[0];
  return { method: "POST", path, headers, json, inputs: values };
}

function pictureUrls(state) {
  const files = state.instances[0].fields.find((f) => f.previewUrls);
  return files ? files.previewUrls() : [];
}

function waiting(progress, cancel, send, controller) {
  const started = performance.now();
  const elapsed = progress.querySelector(".elapsed");
  const tick = () => { elapsed.textContent = `waiting ${((performance.now() - started) / 1000).toFixed(1)} s…`; };
  const shown = setTimeout(() => { progress.hidden = false; cancel.hidden = false; }, PROGRESS_AFTER_MS);
  const timer = setInterval(tick, 100);
  send.disabled = true;
  return (current) => {
    clearTimeout(shown);
    clearInterval(timer);
    if (!current) return;
    progress.hidden = true;
    cancel.hidden = true;
    send.disabled = false;
    if (controller.signal.aborted) elapsed.textContent = "";
  };
}

// Send, then show the answer: rendered, raw and as curl; 422s go to their fields.
async function exchange(request, op, state, answer, general, signal, progress) {
  answer.start(request, op);
  const { response, started } = await api.send(request, signal);
  const streamed = op.stream && response.ok && (response.headers.get("content-type") || "").includes("ndjson");
  let text;
  if (streamed) {
    const gallery = answer.gallery();
    const count = progress.querySelector(".elapsed");
    let received = 0;
    text = await api.readLines(response, (line) => {
      received += 1;
      gallery.add(line, op.output_schema, request.inputs[0]);
      count.textContent = `${received} received…`;
    });
  } else {
    text = await response.text();
  }
  const body = api.parse(text);
  answer.finish(response, started, text, body);
  if (!response.ok) {
    showErrors(response, body, state, general);
    return;
  }
  if (streamed) return;
  answer.show(renderAnswer(op, body, request));
}

function showErrors(response, body, state, general) {
  const problems = [];
  if (body && Array.isArray(body.detail)) {
    for (const item of body.detail) problems.push(problemAt(item, state));
  } else if (body && typeof body.error === "string") {
    const files = state.instances[0].fields.find((f) => f.files);
    problems.push({ field: files && body.error.startsWith("file") ? files.name : null, index: 0, message: body.error });
  } else {
    problems.push({ field: null, index: 0, message: `${response.status} ${response.statusText}` });
  }
  showFieldErrors(state, general, problems);
}

// FastAPI's `loc` (["body", "instance", "petal_width"], ["body", "bulk", "instances", 1,
// "x"], ["query", "x"]) names the field, and in bulk the input it is in.
function problemAt(item, state) {
  const loc = item.loc || [];
  const names = new Set(state.instances[0].fields.map((f) => f.name));
  const field = [...loc].reverse().find((part) => names.has(part)) || null;
  const index = state.mode === "bulk" ? loc.find(Number.isInteger) ?? 0 : 0;
  return { field, index, message: item.msg || JSON.stringify(item) };
}

function showFieldErrors(state, general, problems) {
  const elsewhere = [];
  for (const problem of problems) {
    const instance = state.instances[problem.index] || state.instances[0];
    const field = instance.fields.find((f) => f.name === problem.field);
    if (field) field.setError(problem.message);
    else elsewhere.push(problem.message);
  }
  general.hidden = elsewhere.length === 0;
  general.replaceChildren(...elsewhere.map((message) => el("p", { text: message })));
  const first = document.querySelector(".field.invalid input, .field.invalid textarea, .field.invalid select");
  if (first) first.focus();
}

// The answer: who answered, how fast, and the tabs rendered / raw JSON / curl.
function answerArea() {
  const meta = el("dl", { class: "meta" });
  const rendered = el("div", { class: "rendered", "aria-live": "polite" });
  const raw = el("pre", { class: "raw", tabindex: "0" });
  const curl = el("pre", { class: "curl", tabindex: "0" });
  const copy = el("button", { type: "button", text: "Copy curl" });
  copy.addEventListener("click", () => navigator.clipboard && navigator.clipboard.writeText(curl.textContent));
  const list = el("div", { role: "tablist", "aria-label": "Answer views", class: "answer-tabs" });
  const panels = el("div", {});
  const element = el("section", { class: "answer", "aria-label": "Answer" }, meta, list, panels);
  tabList(list, [
    { label: "Result", panel: el("div", {}, rendered) },
    { label: "JSON", panel: el("div", {}, raw) },
    { label: "curl", panel: el("div", {}, curl, copy) },
  ], panels);
  const facts = (pairs) => meta.replaceChildren(...pairs.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v, "data-fact": k })]));
  return {
    element,
    start(request, op) {
      facts([["status", "sending…"]]);
      rendered.replaceChildren();
      raw.textContent = "";
      curl.textContent = api.curlCommand(request, op.stream);
      element.classList.remove("failed");
    },
    finish(response, started, text, body) {
      facts([
        ["status", `${response.status} ${response.statusText}`],
        ["answered by", response.headers.get("X-Model-Version") || "–"],
        ["request id", response.headers.get("X-Request-Id") || "–"],
        ["time", `${Math.round(performance.now() - started)} ms`],
      ]);
      raw.textContent = body === null ? text : JSON.stringify(body, null, 2);
      element.classList.toggle("failed", !response.ok);
      if (!response.ok) rendered.replaceChildren(readableError(response, body, text));
    },
    show(node) { rendered.replaceChildren(node); },
    showProblem(message) { rendered.replaceChildren(el("p", { class: "error", text: message })); },
    gallery() {
      const grid = el("div", { class: "gallery", "aria-label": "streamed results" });
      rendered.replaceChildren(grid);
      return {
        add(line, schema, context) {
          const at = Math.round(performance.now());
          grid.append(el("article", { class: "card", "data-received-ms": at }, renderOutput(line || {}, schema, context)));
        },
      };
    },
  };
}

function readableError(response, body, text) {
  const box = el("div", { class: "error" }, el("p", { class: "headline", text: `${response.status} ${response.statusText}` }));
  if (body && Array.isArray(body.detail)) {
    box.append(el("ul", {}, ...body.detail.map((d) => el("li", { text: `${(d.loc || []).join(" › ")}: ${d.msg}` }))));
  } else if (body && body.error) {
    box.append(el("p", { text: body.error }));
  } else {
    box.append(el("pre", { text: text.slice(0, 2000) }));
  }
  return box;
}
