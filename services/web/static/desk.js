// Keys for working without a mouse: j/k move through a queue (Enter opens the ticket), r replies,
// n writes an internal note, / goes to search, ? lists the keys. Never while typing in a field.
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

// Ticket actions: `a` goes to the assignment form (its group field), as r and n go to the editor.
document.addEventListener("keydown", (event) => {
  const target = event.target;
  const typing = target instanceof HTMLElement &&
    (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  if (event.key !== "a" || event.ctrlKey || event.metaKey || event.altKey || typing) return;
  const group = document.getElementById("group_id");
  if (!group) return;
  event.preventDefault();
  group.focus();
  group.scrollIntoView({ block: "center" });
});
