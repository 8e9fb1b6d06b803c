// Reading the JSON Schemas a model publishes (pydantic's dialect): references,
// optional fields, and which widget or renderer each property calls for.

export function resolve(schema, root) {
  let seen = schema || {};
  while (seen.$ref) {
    const name = seen.$ref.split("/").pop();
    seen = { ...((root.$defs || {})[name] || {}), ...without(seen, "$ref") };
  }
  // `X | None` is anyOf [X, null]: the field takes X.
  if (seen.anyOf) {
    const real = seen.anyOf.filter((part) => part.type !== "null");
    if (real.length === 1) return { ...resolve(real[0], root), ...without(seen, "anyOf") };
  }
  return seen;
}

function without(object, key) {
  const copy = { ...object };
  delete copy[key];
  return copy;
}

export function properties(schema) {
  const required = new Set(schema.required || []);
  return Object.entries(schema.properties || {}).map(([name, property]) => ({
    name,
    schema: resolve(property, schema),
    required: required.has(name),
  }));
}

// The widget for one input property: the playground's whole vocabulary.
export function inputKind(property) {
  if (property.format === "binary") return "file";
  if (property.type === "array" && resolve(property.items, {}).format === "binary") return "files";
  if (property.enum) return "enum";
  if (property.type === "boolean") return "boolean";
  if (property.type === "number" || property.type === "integer") {
    return bounds(property).every(Number.isFinite) ? "range" : "number";
  }
  if (property.type === "string") return (property.maxLength || Infinity) > 120 ? "text" : "line";
  return "json";
}

// [low, high] as a slider can reach them (exclusive bounds moved in by one step).
export function bounds(property) {
  const step = stepOf(property);
  const low = property.minimum ?? (property.exclusiveMinimum ?? NaN) + step;
  const high = property.maximum ?? (property.exclusiveMaximum ?? NaN) - step;
  return [low, high];
}

export function stepOf(property) {
  if (property.type === "integer") return 1;
  const [low, high] = [property.minimum ?? property.exclusiveMinimum, property.maximum ?? property.exclusiveMaximum];
  return Number.isFinite(low) && Number.isFinite(high) && high - low <= 1 ? 0.01 : 0.1;
}

export function examplesOf(schema) {
  return schema.examples || [];
}

