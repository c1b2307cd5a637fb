// Shared by the pages: posting with the CSRF token, durations, the live stream.
"use strict";

const ACD = (() => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body || {}),
    });
    let data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    if (!response.ok) throw new Error(data.error || response.statusText);
    return data;
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const two = (n) => String(n).padStart(2, "0");
    return h ? `${h}:${two(m)}:${two(r)}` : `${m}:${two(r)}`;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.includes("-")) node.setAttribute(key, value); // data-*, aria-*
      else node[key] = value;
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // Seconds shown as "time in state" keep counting between pushes: the server sends the
  // value at `now`, the page adds what passed since it arrived.
  let receivedAt = performance.now();
  function since(seconds) {
    if (seconds === null || seconds === undefined) return null;
    return seconds + (performance.now() - receivedAt) / 1000;
  }

  function live(url, eventName, onData) {
    const status = document.getElementById("live");
    const source = new EventSource(url);
    source.addEventListener(eventName, (e) => {
      receivedAt = performance.now();
      status.dataset.state = "live";
      status.textContent = "live";
      onData(JSON.parse(e.data));
    });
    source.onerror = () => {
      status.dataset.state = "lost";
      status.textContent = source.readyState === EventSource.CLOSED ? "signed out?" : "reconnecting";
    };
    return source;
  }

  function clock() {
    const node = document.getElementById("clock");
    const tick = () => { node.textContent = new Date().toLocaleTimeString([], { hour12: false }); };
    tick();
    setInterval(tick, 1000);
  }

  return { post, duration, el, since, live, clock };
})();
