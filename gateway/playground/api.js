// Talking to the gateway: every call carries the API key when one is set, is timed,
// and is remembered as a curl command that repeats it.

const KEY_STORE = "modelfleet.apiKey";
const keyInput = () => document.getElementById("api-key");

export function apiKey() {
  return keyInput().value.trim();
}

// True when the key is a new one (the page then reloads what it shows).
export function rememberKey() {
  const changed = sessionStorage.getItem(KEY_STORE) !== apiKey();
  sessionStorage.setItem(KEY_STORE, apiKey());
  return changed;
}

export function restoreKey() {
  keyInput().value = sessionStorage.getItem(KEY_STORE) || "";
}

function withKey(headers) {
  const key = apiKey();
  return key ? { ...headers, "X-API-Key": key } : { ...headers };
}

export async function getJSON(path, headers = {}) {
  const response = await fetch(path, { headers: withKey(headers) });
  const text = await response.text();
  return { response, body: parse(text), text };
}

export function parse(text) {
  try {
    return JSON.parse(text);
  } catch (_) {
    return null;
  }
}

// A request as the page describes it: method, path, headers, and a body that is
// `json` (an object), `form` (a list of [name, value, filename]) or nothing.
export async function send(request, signal) {
  const init = { method: request.method, headers: withKey(request.headers), signal };
  if (request.json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(request.json);
  } else if (request.form) {
    const form = new FormData();
    for (const [name, value, filename] of request.form) {
      if (filename) form.append(name, value, filename);
      else form.append(name, value);
    }
    init.body = form;
  }
  const started = performance.now();
  const response = await fetch(request.path, init);
  return { response, started };
}

// `onLine` gets each NDJSON object as soon as its line is complete.
export async function readLines(response, onLine) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const chunk = decoder.decode(value, { stream: true });
    text += chunk;
    buffered += chunk;
    const lines = buffered.split("\n");
    buffered = lines.pop();
    lines.filter((line) => line.trim()).forEach((line) => onLine(parse(line)));
  }
  if (buffered.trim()) onLine(parse(buffered));
  return text;
}

function quote(text) {
  return `'${String(text).replaceAll("'", `'"'"'`)}'`;
}

export function curlCommand(request, stream = false) {
  const parts = ["curl", "-s"];
  if (stream) parts.push("-N");
  if (request.method !== "GET" && !request.form && request.json === undefined) {
    parts.push("-X", request.method);
  }
  parts.push(quote(new URL(request.path, location.origin).href));
  for (const [name, value] of Object.entries(withKey(request.headers))) {
    parts.push("-H", quote(`${name}: ${value}`));
  }
  if (request.json !== undefined) {
    parts.push("-H", quote("Content-Type: application/json"), "-d", quote(JSON.stringify(request.json)));
  }
  for (const [name, value, filename] of request.form || []) {
    parts.push("-F", quote(filename ? `${name}=@${filename}` : `${name}=${value}`));
  }
  return parts.join(" ");
}
