// Keys for working without a mouse: j/k move through a queue (Enter opens the ticket), r replies,
// n writes an internal note, a assigns, / goes to search, ? lists the keys. Never while typing in a field.
(function () {
  "use strict";
  const typing = (el) => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  let current = -1;

  function rows() {
    return Array.from(document.querySelectorAll("table.queue tbody tr")).filter((tr) => tr.querySelector("a"));
  }

  function move(step) {
    const all = rows();
    if (!all.length) return;
    current = Math.max(0, Math.min(all.length - 1, current + step));
    all.forEach((tr, i) => tr.classList.toggle("current", i === current));
    all[current].querySelector("a").focus();
  }

  function assign() {  // the assignment form's group field, as r and n go to the editor
    const group = document.getElementById("group_id");
    if (!group) return;
    group.focus();
    group.scrollIntoView({ block: "center" });
  }

  function write(kind) {
    const body = document.getElementById("body");
    if (!body) return;
    const choice = document.querySelector(`input[name="kind"][value="${kind}"]`);
    if (choice) choice.checked = true;
    body.focus();
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    const actions = {
      j: () => move(1),
      k: () => move(-1),
      r: () => write("reply"),
      n: () => write("note"),
      a: () => assign(),
      "/": () => document.getElementById("search")?.focus(),
      "?": () => document.getElementById("keys")?.toggleAttribute("hidden"),
    };
    const action = actions[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  });
})();

// SLA countdowns: each running target's time left, every second, in the page's language.
(function () {
  "use strict";
  const words = document.documentElement.lang === "ru"
    ? { left: "осталось", over: "просрочено на", h: "ч", m: "мин", s: "с" }
    : { left: "left", over: "overdue by", h: "h", m: "min", s: "s" };
  function span(ms) {
    const total = Math.round(Math.abs(ms) / 1000);
    const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    return h ? `${h} ${words.h} ${m} ${words.m}` : m ? `${m} ${words.m} ${s} ${words.s}` : `${s} ${words.s}`;
  }
  function tick() {
    document.querySelectorAll("time[data-countdown]").forEach((el) => {
      const left = Date.parse(el.getAttribute("datetime")) - Date.now();
      el.textContent = left >= 0 ? `${span(left)} ${words.left}` : `${words.over} ${span(left)}`;
    });
  }
  tick();
  setInterval(tick, 1000);
})();

// A choice that takes effect at once (presence): changing it sends its form. Listened to on the
// document, so a form htmx has just swapped in works before htmx has looked at it (then the form
// posts as a plain form and the page comes back).
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field instanceof HTMLSelectElement && field.hasAttribute("data-submit-on-change")) field.form?.requestSubmit();
});

// Admin settings: a secret shown once is copied by its button (a real button: Enter or Space copies as a
// click does), and the status beside it says so, in the page's words (the button's data attributes).
document.addEventListener("click", async (event) => {
  const button = event.target instanceof Element ? event.target.closest("button[data-copy]") : null;
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  const status = document.getElementById(`${button.dataset.copy}-status`);
  if (!(field instanceof HTMLInputElement)) return;
  let copied = false;
  try {
    await navigator.clipboard.writeText(field.value);
    copied = true;
  } catch {
    field.focus();
    field.select();
    copied = document.execCommand("copy");
  }
  if (status) status.textContent = copied ? button.dataset.copied : button.dataset.notCopied;
});

// Live ticket (area: live): the ticket page says every 2 s that the person has it open, and at once
// when they start or stop replying (the reply box has focus or text); as the page goes, that they left.
// The desk shows it to the other agents within a second (services/web/live.py).
(function () {
  "use strict";
  const page = document.querySelector("[data-heartbeat]");
  if (!page) return;
  const url = page.getAttribute("data-heartbeat");
  let token = "";
  try {
    token = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";
  } catch (error) {
    token = "";
  }
  const box = document.getElementById("body");
  let said = "";
  const activity = () => (box && (document.activeElement === box || box.value.trim()) ? "replying" : "viewing");
  function beat(always) {
    const now = activity();
    if (!always && now === said) return;
    said = now;
    fetch(url, {
      method: "POST",
      headers: { "X-CSRF-Token": token },
      body: new URLSearchParams({ activity: now }),
      credentials: "same-origin",
    }).catch(() => {});
  }
  beat(true);
  setInterval(() => beat(true), 2000);
  if (box) ["focus", "blur", "input"].forEach((name) => box.addEventListener(name, () => beat(false)));
  window.addEventListener("pagehide", () => {
    const form = new FormData();
    form.append("csrf_token", token);
    navigator.sendBeacon(`${url}/end`, form);
  });
})();

// Preferences (area: reports): offer the browser's own time zone beside the list of zones.
document.querySelectorAll("[data-browser-zone]").forEach((offer) => {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const select = document.getElementById("time_zone");
  if (!zone || !select || !Array.from(select.options).some((option) => option.value === zone)) return;
  offer.querySelector("span").textContent = zone;
  offer.hidden = false;
  offer.querySelector("button").addEventListener("click", () => { select.value = zone; });
});

// Live swaps keep what the person was doing (area: live): a block replaced by a live change (the
// thread, the facts) reopens the forms that were open in it, with what was typed and the focus.
(() => {
  const kept = new Map();
  const keyOf = (details) => {
    const form = details.querySelector("form");
    return form ? form.getAttribute("action") : null;
  };
  function save(event) {
    const target = event.detail && event.detail.target;
    if (!target || !target.id) return;
    const open = Array.from(target.querySelectorAll("details[open]")).map(keyOf).filter(Boolean);
    const typed = Array.from(target.querySelectorAll("input[id], textarea[id]"))
      .filter((input) => input.type !== "hidden" && input.value !== input.defaultValue)
      .map((input) => [input.id, input.value]);
    const focused = target.contains(document.activeElement) ? document.activeElement.id : "";
    if (open.length || typed.length || focused) kept.set(target.id, { open, typed, focused });
  }
  function restore(event) {
    const target = event.detail && event.detail.target;
    const state = target && kept.get(target.id);
    if (!state) return;
    kept.delete(target.id);
    target.querySelectorAll("details").forEach((details) => {
      if (state.open.includes(keyOf(details))) details.open = true;
    });
    state.typed.forEach(([id, value]) => {
      const input = document.getElementById(id);
      if (input && target.contains(input)) input.value = value;
    });
    const focus = state.focused && document.getElementById(state.focused);
    if (focus) focus.focus();
  }
  ["htmx:beforeSwap", "htmx:oobBeforeSwap"].forEach((name) => document.addEventListener(name, save));
  ["htmx:afterSwap", "htmx:oobAfterSwap"].forEach((name) => document.addEventListener(name, restore));
})();

// macros: the reply box's macro list. Typing filters it (htmx); the arrow keys in the filter move the chosen
// macro (focus stays in the filter, so typing goes on); Enter there, or on a chosen macro, applies it.
(function () {
  function options() {
    return Array.from(document.querySelectorAll("#macro-options input[type=radio]"));
  }
  function say(radio) {
    const status = document.getElementById("macro-chosen");
    const title = radio.closest(".macro-option").querySelector(".macro-title");
    if (status && title) status.textContent = title.textContent;
  }
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (!(target instanceof HTMLElement)) return;
    const inFilter = target.id === "macro-filter";
    const onOption = target.matches("#macro-options input[type=radio]");
    if ((inFilter || onOption) && event.key === "Enter") {
      const form = document.getElementById("macro-form");
      if (!form || !options().some((radio) => radio.checked)) return;
      event.preventDefault();
      form.requestSubmit(form.querySelector("button[type=submit]:not([formaction])"));
      return;
    }
    if (!inFilter || (event.key !== "ArrowDown" && event.key !== "ArrowUp")) return;
    const radios = options();
    if (!radios.length) return;
    event.preventDefault();
    const at = radios.findIndex((radio) => radio.checked);
    const step = event.key === "ArrowDown" ? 1 : -1;
    const next = radios[(at + step + radios.length) % radios.length];
    next.checked = true;
    next.closest(".macro-option").scrollIntoView({ block: "nearest" });
    say(next);
  });
})();
