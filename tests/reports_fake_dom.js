// Runs the HTML report's inline script under node against a minimal DOM built from the page
// (parsed by Python), then plays the actions given on stdin and prints what the page shows.
// Only what the script uses is modelled; no npm package is needed.
"use strict";
const fs = require("fs");
const vm = require("vm");

class FakeElement {
  constructor(tagName, attrs) {
    this.tagName = tagName;
    this.attrs = {...attrs};
    this.children = [];
    this.parentNode = null;
    this.listeners = {};
    this.selected = undefined;
  }
  get textContent() {
    return this.children.map((c) => (typeof c === "string" ? c : c.textContent)).join("");
  }
  set textContent(value) { this.children = [String(value)]; }
  get title() { return this.attrs.title || ""; }
  get id() { return this.attrs.id; }
  get name() { return this.attrs.name; }
  get dataset() {
    const data = {};
    for (const [key, value] of Object.entries(this.attrs)) {
      if (key.startsWith("data-")) data[key.slice(5)] = value;
    }
    return data;
  }
  get hidden() { return "hidden" in this.attrs; }
  set hidden(value) {
    if (value) this.attrs.hidden = "";
    else delete this.attrs.hidden;
  }
  get classList() {
    const classes = (this.attrs.class || "").split(/\s+/);
    return {contains: (name) => classes.includes(name)};
  }
  get elements() { return this.children.filter((c) => typeof c !== "string"); }
  get rows() { return this.elements.filter((e) => e.tagName === "tr"); }
  get cells() { return this.elements.filter((e) => e.tagName === "td" || e.tagName === "th"); }
  get tBodies() { return this.elements.filter((e) => e.tagName === "tbody"); }
  get tHead() { return this.elements.find((e) => e.tagName === "thead"); }
  get value() {
    if (this.selected !== undefined) return this.selected;
    if (this.tagName === "select") return this.descendants().find((e) => e.tagName === "option").attrs.value;
    return this.attrs.value || "";
  }
  set value(value) {
    if (this.tagName === "select" && !this.descendants().some((o) => o.attrs.value === value)) {
      throw new Error("no option " + value);
    }
    this.selected = value;
  }
  getAttribute(name) { return name in this.attrs ? this.attrs[name] : null; }
  setAttribute(name, value) { this.attrs[name] = String(value); }
  removeAttribute(name) { delete this.attrs[name]; }
  addEventListener(type, listener) { (this.listeners[type] ||= []).push(listener); }
  dispatch(type) { for (const listener of this.listeners[type] || []) listener({type, target: this}); }
  click() {
    this.dispatch("click");
    if (this.tagName === "a") downloads.push({href: this.href, download: this.download});
  }
  appendChild(child) {
    if (child.parentNode) child.remove();
    child.parentNode = this;
    this.children.push(child);
    return child;
  }
  remove() {
    const parent = this.parentNode;
    parent.children = parent.children.filter((c) => c !== this);
    this.parentNode = null;
  }
  replaceChildren(...nodes) {
    this.children = [];
    for (const node of nodes) this.appendChild(node);
  }
  descendants() {
    const found = [];
    const walk = (element) => {
      for (const child of element.elements) {
        found.push(child);
        walk(child);
      }
    };
    walk(this);
    return found;
  }
  querySelectorAll(selector) {
    const [, tag, attribute, value] = /^(\w*)(?:\[([\w-]+)(?:=(\w+))?\])?$/.exec(selector);
    return this.descendants().filter((e) =>
      (!tag || e.tagName === tag) &&
      (!attribute || (attribute in e.attrs && (value === undefined || e.attrs[attribute] === value))));
  }
  querySelector(selector) { return this.querySelectorAll(selector)[0] || null; }
}

function build(node) {
  if (typeof node === "string") return node;
  const element = new FakeElement(node.tag, node.attrs);
  for (const child of node.children) {
    const built = build(child);
    if (typeof built === "string") element.children.push(built);
    else element.appendChild(built);
  }
  return element;
}

const downloads = [];
const blobs = new Map();
const timers = [];
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const root = build(input.tree);
const byId = (id) => root.descendants().find((e) => e.attrs.id === id);
const document = {
  body: root.descendants().find((e) => e.tagName === "body"),
  getElementById: byId,
  querySelectorAll: (selector) => root.querySelectorAll(selector),
  createElement: (tag) => new FakeElement(tag, {}),
};
const context = vm.createContext({
  document,
  Blob,
  Intl,
  URL: {
    createObjectURL: (blob) => {
      const url = "blob:report/" + blobs.size;
      blobs.set(url, blob);
      return url;
    },
    revokeObjectURL: () => {},
  },
  setTimeout: (callback, delay) => timers.push({callback, delay}),
  clearTimeout: () => { timers.length = 0; },
});
vm.runInContext(input.script, context);

function snapshot() {
  const table = byId("evaluations");
  const visible = [];
  for (const body of table.tBodies) {
    for (const row of body.rows) {
      if (row.classList.contains("group-head") || row.hidden) continue;
      visible.push([body.dataset.account, body.dataset.region,
        ...row.cells.map((cell) => cell.textContent)]);
    }
  }
  const counts = {};
  for (const span of root.querySelectorAll("[data-g]")) {
    counts[span.dataset.g + "|" + span.dataset.c] = span.textContent;
  }
  return {
    visible,
    counts,
    hiddenGroups: table.tBodies.map((b) => b.hidden),
    controlsHidden: byId("controls").hidden,
    sort: table.tHead.rows[0].cells.map((c) => [c.dataset.sort, c.getAttribute("aria-sort")]),
    sortButtons: table.tHead.rows[0].cells.map((c) => c.elements.map((e) => e.tagName)),
  };
}

(async () => {
  const results = [];
  const controls = byId("controls");
  for (const [action, ...args] of input.actions) {
    if (action === "select") {
      const select = controls.querySelectorAll("select[name]").find((s) => s.name === args[0]);
      select.value = args[1];
      select.dispatch("change");
    } else if (action === "search") {
      const search = controls.querySelector("input[type=search]");
      search.value = args[0];
      search.dispatch("input");
      for (const timer of timers.splice(0)) timer.callback();
    } else if (action === "click") {
      byId(args[0]).click();
    } else if (action === "sort") {
      const header = byId("evaluations").tHead.rows[0].cells.find((c) => c.dataset.sort === args[0]);
      header.elements[0].click();
    } else if (action === "snapshot") {
      results.push(snapshot());
    } else if (action === "download") {
      const {href, download} = downloads.at(-1);
      results.push({name: download, type: blobs.get(href).type, text: await blobs.get(href).text()});
    }
  }
  process.stdout.write(JSON.stringify(results));
})();
