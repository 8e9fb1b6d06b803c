// An accessible tab list (WAI-ARIA tabs pattern): arrow keys, Home and End move
// between tabs; the chosen tab's panel is the only one shown.

import { el } from "./widgets.js";

let counter = 0;

// `items`: [{label, panel}]: the tab buttons go into `list`, the panels into `panels`.
export function tabList(list, items, panels) {
  const id = `tabs${counter++}`;
  const buttons = items.map(({ label }, i) => el("button", {
    type: "button", role: "tab", id: `${id}-${i}`, "aria-controls": `${id}-panel-${i}`, text: label,
    "data-tab": label,
  }));
  items.forEach(({ panel }, i) => {
    panel.id = `${id}-panel-${i}`;
    panel.setAttribute("role", "tabpanel");
    panel.setAttribute("aria-labelledby", `${id}-${i}`);
    panel.tabIndex = 0;
  });
  const choose = (index, focus = false) => {
    buttons.forEach((button, i) => {
      button.setAttribute("aria-selected", String(i === index));
      button.tabIndex = i === index ? 0 : -1;
      items[i].panel.hidden = i !== index;
    });
    if (focus) buttons[index].focus();
  };
  buttons.forEach((button, i) => {
    button.addEventListener("click", () => choose(i));
    button.addEventListener("keydown", (event) => {
      const last = buttons.length - 1;
      const next = { ArrowRight: i === last ? 0 : i + 1, ArrowLeft: i === 0 ? last : i - 1, Home: 0, End: last }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      choose(next, true);
    });
  });
  list.replaceChildren(...buttons);
  panels.replaceChildren(...items.map(({ panel }) => panel));
  choose(0);
}
