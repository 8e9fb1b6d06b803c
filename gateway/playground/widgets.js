// One small function per input kind (see schema.js `inputKind`). Each returns a
// field: {name, element, read(), write(value), setError(message)}; read() gives
// undefined for "leave it out", so the server, not the page, says what is missing.

import { bounds, inputKind, stepOf } from "./schema.js";

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name === "class") node.className = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

function labelText(name, schema, required) {
  const words = name.replaceAll("_", " ");
  return required ? words : `${words} (optional)`;
}

// The frame every field shares: label, the control(s), help text and an error slot.
function frame(id, name, schema, required, controls, labelFor = id) {
  const help = schema.description ? el("p", { class: "help", id: `${id}-help`, text: schema.description }) : null;
  const error = el("p", { class: "field-error", id: `${id}-error`, hidden: true });
  const label = el("label", { for: labelFor, text: labelText(name, schema, required) });
  const element = el("div", { class: "field", "data-field": name }, label, ...controls, help, error);
  const described = [help && help.id, error.id].filter(Boolean).join(" ");
  element.querySelectorAll("input, select, textarea").forEach((c) => c.setAttribute("aria-describedby", described));
  const setError = (message) => {
    error.textContent = message || "";
    error.hidden = !message;
    element.classList.toggle("invalid", Boolean(message));
    element.querySelectorAll("input, select, textarea").forEach((c) => {
      if (message) c.setAttribute("aria-invalid", "true");
      else c.removeAttribute("aria-invalid");
    });
  };
  return { element, setError };
}

function rangeField(id, name, schema, required) {
  const [low, high] = bounds(schema);
  const step = stepOf(schema);
  const slider = el("input", { type: "range", id: `${id}-slider`, min: low, max: high, step, "aria-label": `${name} slider` });
  const number = el("input", { type: "number", id, step: "any", inputmode: "decimal" });
  slider.addEventListener("input", () => {
    number.value = slider.value;
    number.dispatchEvent(new Event("input", { bubbles: true }));
  });
  number.addEventListener("input", () => {
    if (number.value !== "") slider.value = number.value;
  });
  const box = el("div", { class: "range" }, slider, number);
  const { element, setError } = frame(id, name, schema, required, [box]);
  element.append(el("p", { class: "bounds", text: boundsText(schema) }));
  return {
    element, setError,
    read: () => (number.value === "" ? undefined : Number(number.value)),
    write: (value) => { number.value = value ?? ""; slider.value = value ?? low; },
  };
}

function boundsText(schema) {
  const low = schema.minimum !== undefined ? `≥ ${schema.minimum}` : `> ${schema.exclusiveMinimum}`;
  const high = schema.maximum !== undefined ? `≤ ${schema.maximum}` : `< ${schema.exclusiveMaximum}`;
  return `${low} and ${high}`;
}

function numberField(id, name, schema, required) {
  const input = el("input", {
    type: "number", id, step: "any", min: schema.minimum, max: schema.maximum, inputmode: "decimal",
  });
  const { element, setError } = frame(id, name, schema, required, [input]);
  return {
    element, setError,
    read: () => (input.value === "" ? undefined : Number(input.value)),
    write: (value) => { input.value = value ?? ""; },
  };
}

function enumField(id, name, schema, required) {
  const select = el("select", { id });
  if (!required) select.append(el("option", { value: "", text: "(none)" }));
  schema.enum.forEach((value) => select.append(el("option", { value: JSON.stringify(value), text: String(value) })));
  const { element, setError } = frame(id, name, schema, required, [select]);
  return {
    element, setError,
    read: () => (select.value === "" ? undefined : JSON.parse(select.value)),
    write: (value) => { select.value = value === undefined ? "" : JSON.stringify(value); },
  };
}

function booleanField(id, name, schema, required) {
  const box = el("input", { type: "checkbox", id });
  const { element, setError } = frame(id, name, schema, required, [box]);
  element.classList.add("check");
  return { element, setError, read: () => box.checked, write: (value) => { box.checked = Boolean(value); } };
}

function textField(id, name, schema, required, multiline) {
  const input = multiline
    ? el("textarea", { id, rows: 4, maxlength: schema.maxLength, spellcheck: "true" })
    : el("input", { id, type: "text", maxlength: schema.maxLength });
  const { element, setError } = frame(id, name, schema, required, [input]);
  return {
    element, setError,
    read: () => (input.value === "" ? undefined : input.value),
    write: (value) => { input.value = value ?? ""; },
  };
}

function jsonField(id, name, schema, required) {
  const input = el("textarea", { id, rows: 4, spellcheck: "false", class: "code" });
  const field = frame(id, name, schema, required, [input]);
  return {
    ...field,
    read: () => {
      if (input.value.trim() === "") return undefined;
      try {
        return JSON.parse(input.value);
      } catch (problem) {
        throw new FieldError(name, `not valid JSON: ${problem.message}`);
      }
    },
    write: (value) => { input.value = value === undefined ? "" : JSON.stringify(value); },
  };
}

export class FieldError extends Error {
  constructor(field, message) {
    super(message);
    this.field = field;
  }
}

function megabytes(bytes) {
  return `${(bytes / 1048576).toFixed(bytes < 1048576 ? 2 : 1)} MB`;
}

// Files: a drop area around a real file input (keyboard and screen readers use the
// input), previews of pictures, and the body limit checked before anything is sent.
function fileField(id, name, schema, required, { multiple, accept, limit }) {
  const input = el("input", { type: "file", id, multiple, accept: accept.join(",") || undefined, class: "file-input" });
  const previews = el("ul", { class: "previews", "aria-label": `${name}: chosen files` });
  const prompt = el("p", { text: `Drop ${multiple ? "files" : "a file"} here or choose` });
  const area = el("div", { class: "drop" }, prompt, input, previews);
  const field = frame(id, name, schema, required, [area]);
  let files = [];
  const show = () => {
    previews.replaceChildren(...files.map((file) => {
      const url = URL.createObjectURL(file);
      const picture = file.type.startsWith("image/") ? el("img", { src: url, alt: `preview of ${file.name}` }) : null;
      return el("li", {}, picture, el("span", { text: `${file.name} · ${megabytes(file.size)}` }));
    }));
    const total = files.reduce((sum, file) => sum + file.size, 0);
    field.setError(total > limit ? `${megabytes(total)} chosen; a request may carry at most ${megabytes(limit)}` : "");
  };
  const take = (list) => {
    files = multiple ? [...list] : [...list].slice(0, 1);
    show();
  };
  input.addEventListener("change", () => take(input.files));
  area.addEventListener("dragover", (event) => { event.preventDefault(); area.classList.add("over"); });
  area.addEventListener("dragleave", () => area.classList.remove("over"));
  area.addEventListener("drop", (event) => {
    event.preventDefault();
    area.classList.remove("over");
    take(event.dataTransfer.files);
  });
  return {
    ...field,
    files: true,
    read: () => {
      const total = files.reduce((sum, file) => sum + file.size, 0);
      if (total > limit) throw new FieldError(name, `the files are over the ${megabytes(limit)} limit`);
      return files.length ? files : undefined;
    },
    write: () => take([]),
    previewUrls: () => [...previews.querySelectorAll("img")].map((img) => img.src),
  };
}

const BUILDERS = {
  range: rangeField,
  number: numberField,
  enum: enumField,
  boolean: booleanField,
  line: (id, name, schema, required) => textField(id, name, schema, required, false),
  text: (id, name, schema, required) => textField(id, name, schema, required, true),
  json: jsonField,
  file: (id, name, schema, required, options) => fileField(id, name, schema, required, { ...options, multiple: false }),
  files: (id, name, schema, required, options) => fileField(id, name, schema, required, { ...options, multiple: options.bulk }),
};

export function buildField(prefix, { name, schema, required }, options) {
  const kind = inputKind(schema);
  const field = BUILDERS[kind](`${prefix}-${name}`, name, schema, required, options);
  return { ...field, name, kind };
}
