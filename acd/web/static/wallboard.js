// The wallboard and supervisor console: drawn from the server's pushes, never polled.
"use strict";

(() => {
  const { post, duration, el, since, live, clock } = ACD;
  const modes = (document.getElementById("modes").dataset.modes || "").split(",").filter(Boolean);
  let view = null;

  function level(queue) {
    const sl = queue.service_level;
    if (queue.longest_wait > queue.service_level_seconds * 4 || (sl !== null && sl < 60)) return "bad";
    if (queue.longest_wait > queue.service_level_seconds || (sl !== null && sl < 80)) return "warn";
    return "ok";
  }

  function slClass(sl) {
    if (sl === null) return "";
    return sl >= 80 ? "sl-ok" : sl >= 60 ? "sl-warn" : "sl-bad";
  }

  function metric(cls, value, label) {
    return el("div", { class: `metric ${cls}` }, el("div", { class: "v", text: value }), el("div", { class: "l", text: label }));
  }

  function drawQueues() {
    const box = document.getElementById("queues");
    box.replaceChildren(...view.queues.map((q) => {
      const longest = q.waiting ? since(q.longest_wait) : null;
      const sl = q.service_level === null ? "–" : `${Math.round(q.service_level)}%`;
      const slMetric = metric("sl", sl, `SL ${q.service_level_seconds}s today`);
      slMetric.querySelector(".v").className = `v ${slClass(q.service_level)}`;
      return el("article", { class: "queue", "data-queue": q.name, "data-level": level(q) },
        el("div", {}, el("span", { class: "qname", text: q.name }), el("span", { class: "qdesc", text: q.description })),
        el("div", { class: "big" },
          metric("waiting", q.waiting, "waiting"),
          metric("longest", longest === null ? "–" : duration(longest), "longest wait"),
          slMetric),
        el("div", { class: "small-row" },
          el("span", {}, "answered ", el("b", { class: "answered", text: q.answered })),
          el("span", {}, "abandoned ", el("b", { class: "abandoned", text: q.abandoned })),
          el("span", {}, "talking ", el("b", { text: q.talking })),
          el("span", {}, "ringing ", el("b", { text: q.ringing })),
          el("span", {}, "staffed ", el("b", { text: q.staff }))));
    }));
  }

  function act(number, action, extra) {
    const message = document.getElementById("message");
    message.className = "message";
    message.textContent = `${action} ${number}…`;
    const url = modes.includes(action) ? `/api/agents/${number}/supervise/${action}` : `/api/agents/${number}/${action}`;
    post(url, extra).then((r) => {
      message.textContent = r.state ? `agent ${number}: ${r.state}${r.reason ? " (" + r.reason + ")" : ""}` : `${action} on ${number}: ringing your phone ${r.phone}`;
    }).catch((e) => { message.className = "message error"; message.textContent = `${action} ${number}: ${e.message}`; });
  }

  function actions(agent) {
    const st = agent.state;
    const box = el("div", { class: "actions" });
    const button = (action, label, cls, enabled) => {
      const b = el("button", { class: `small ${cls || ""}`, text: label, disabled: !enabled, "data-action": action, title: `${label} ${agent.number}` });
      b.addEventListener("click", () => act(agent.number, action, action === "pause" ? { reason: box.querySelector("select").value } : {}));
      return b;
    };
    const reasons = el("select", { class: "small", "aria-label": "pause reason" }, ...view.pause_reasons.map((r) => el("option", { value: r, text: r })));
    box.append(
      button("ready", "Ready", "go", st === "not-ready" || st === "logged-out"),
      reasons,
      button("pause", "Pause", "warn", st === "ready" || st === "wrap-up" || st === "logged-out"),
      button("logout", "Log out", "ghost", st !== "logged-out" && st !== "on-call" && st !== "reserved"));
    if (agent.role === "supervisor") {
      box.append(agent.takes_calls ? button("leave", "Leave queues", "ghost", true) : button("join", "Join queues", "", true));
    }
    const move = el("select", { class: "small", "aria-label": "move to queue" },
      el("option", { value: "", text: "by skills" }), ...(view.queue_names || []).map((q) => el("option", { value: q, text: q })));
    const moveButton = el("button", { class: "small", text: "Move", "data-action": "move", title: `Move ${agent.number}` });
    moveButton.addEventListener("click", () => {
      const q = move.value;
      const message = document.getElementById("message");
      message.className = "message";
      message.textContent = `moving ${agent.number}…`;
      post(`/api/agents/${agent.number}/queues`, { queues: q ? [q] : null }).then(() => {
        message.textContent = `agent ${agent.number}: ${q ? "now on " + q : "back on the queues of their skills"}`;
      }).catch((e) => { message.className = "message error"; message.textContent = `move ${agent.number}: ${e.message}`; });
    });
    box.append(move, moveButton);
    for (const mode of modes) box.append(button(mode, mode[0].toUpperCase() + mode.slice(1), mode === "barge" ? "bad" : "", st === "on-call"));
    return box;
  }

  function drawAgents() {
    const body = document.querySelector("#agents tbody");
    const open = document.activeElement && document.activeElement.tagName === "SELECT";
    if (open) return; // do not pull a reason list away while someone is choosing
    body.replaceChildren(...view.agents.map((a) => {
      const device = a.device === "UNAVAILABLE" || a.device === "INVALID" ? el("span", { class: "device-bad", text: "phone offline" }) : null;
      return el("tr", { "data-agent": a.number, "data-state": a.state },
        el("td", {}, el("span", { class: "agent-name", text: a.name || a.number }), el("span", { class: "agent-no", text: a.number }),
          a.role === "supervisor" ? el("span", { class: "tag", text: "supervisor" }) : null,
          a.trainee ? el("span", { class: "tag", text: "trainee" }) : null),
        el("td", {}, el("span", { class: "pill state", "data-state": a.state, text: a.state + (a.reason ? ` · ${a.reason}` : "") }), device),
        el("td", { class: "num since", "data-since": a.seconds_in_state, text: duration(since(a.seconds_in_state)) }),
        el("td", { text: a.queues.join(", ") }),
        el("td", { text: a.caller ? `${a.caller} · ${a.call_queue}` : "" }),
        el("td", { class: "num", text: a.calls_taken }),
        el("td", {}, actions(a)));
    }));
    const counts = {};
    for (const a of view.agents) counts[a.state] = (counts[a.state] || 0) + 1;
    document.getElementById("agent-summary").textContent = Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(" · ");
  }

  function drawSide() {
    const rules = document.getElementById("rules");
    const active = Array.isArray(view.rules) ? view.rules.filter((r) => !r.state || r.state === "fired" || r.active) : [];
    rules.hidden = active.length === 0;
    rules.replaceChildren(el("span", { text: "Rules in force: " }), ...active.map((r) => el("span", { class: "rule",
      text: typeof r === "string" ? r : `${r.rule || r.name} (${r.scope || "*"})${r.actions ? ": " + [].concat(r.actions).join(", ") : ""}` })));
    const fx = view.rule_effects || {};
    const changed = [["callbacks_suspended", "callbacks stopped"], ["breaks_suspended", "breaks suspended"],
      ["supervisors_called_in", "supervisors on the queues"]].filter(([k]) => fx[k]).map(([, t]) => t);
    if (fx.callback_agent_cap !== null && fx.callback_agent_cap !== undefined) changed.push(`≤ ${fx.callback_agent_cap} agents on callbacks`);
    if (changed.length) rules.append(el("span", { class: "rule", text: "In force: " + changed.join("; ") }));
    for (const alert of fx.alerts || []) rules.append(el("span", { class: "rule", text: "⚠ " + alert }));
    const list = document.getElementById("reviews");
    document.getElementById("review-count").textContent = view.reviews.length ? `${view.reviews.length} overdue` : "";
    list.replaceChildren(...(view.reviews.length ? view.reviews.map((r) => el("li", {},
      el("span", { class: "late", text: `#${r.id}` }), ` agent ${r.agent || "?"} · ${r.reason} · due ${new Date(r.due_at).toLocaleTimeString([], { hour12: false })}`))
      : [el("li", { class: "empty", text: "none — every dissatisfied call was heard in time" })]));
    const sum = (k) => view.queues.reduce((n, q) => n + (q[k] || 0), 0);
    const totals = [["waiting", sum("waiting")], ["answered", sum("answered")], ["abandoned", sum("abandoned")], ["sent away", sum("lost")], ["talking", sum("talking")]];
    document.getElementById("totals").replaceChildren(...totals.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v, "data-total": k })]));
  }

  function draw() { drawQueues(); drawAgents(); drawSide(); }

  // Between pushes only the clocks move.
  setInterval(() => {
    if (!view) return;
    for (const cell of document.querySelectorAll("td.since")) {
      const s = cell.dataset.since;
      cell.textContent = s === "null" || s === undefined ? "–" : duration(since(Number(s)));
    }
    drawQueues();
  }, 1000);

  clock();
  live("/events/wallboard", "wallboard", (data) => { view = data; draw(); });
})();
