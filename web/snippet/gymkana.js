/* Gymkana snippet: paste once on the brand's site.
 * On a page reached from a contest step it shows a small progress overlay and, once the
 * participant has stayed long enough, reports the visit. Everywhere else it does nothing. */
(function () {
  "use strict";
  var PARAM = "gk";
  var KEY = "gymkana.visit";
  var script = document.currentScript;
  if (!script || !window.fetch) return;
  var base = new URL(script.src).origin;

  var url = new URL(window.location.href);
  var token = url.searchParams.get(PARAM);
  if (token) {
    // Keep the token out of the address bar, bookmarks and shared links.
    url.searchParams.delete(PARAM);
    window.history.replaceState(window.history.state, "", url.toString());
    try { window.sessionStorage.setItem(KEY, token); } catch (e) { /* private mode */ }
  } else {
    try { token = window.sessionStorage.getItem(KEY); } catch (e) { token = null; }
  }
  if (!token) return;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function overlay(info) {
    var style = el("style");
    style.textContent =
      ".gk-box{position:fixed;right:16px;bottom:16px;z-index:2147483647;max-width:320px;" +
      "background:#fff;color:#1d1d1f;border-radius:12px;box-shadow:0 6px 24px rgba(0,0,0,.2);" +
      "padding:14px 16px;font:15px/1.4 system-ui,sans-serif;border-top:4px solid #e8590c}" +
      ".gk-box strong{display:block;font-size:16px;margin-bottom:4px}" +
      ".gk-box a{color:#c2410c;font-weight:600}" +
      ".gk-bar{height:6px;background:#f1f1f1;border-radius:3px;margin:8px 0;overflow:hidden}" +
      ".gk-bar span{display:block;height:100%;width:0;background:#e8590c;transition:width 1s linear}" +
      ".gk-close{position:absolute;top:6px;right:10px;border:0;background:none;font-size:18px;cursor:pointer}";
    document.head.appendChild(style);
    var box = el("div", "gk-box");
    box.setAttribute("role", "status");
    box.setAttribute("data-gymkana", "overlay");
    var close = el("button", "gk-close", "\u00d7");
    close.setAttribute("aria-label", info.text.close);
    close.onclick = function () { box.remove(); };
    var title = el("strong", null, info.text.found);
    var step = el("div", null, info.step.title);
    var message = el("div", "gk-message", info.dwell_seconds > 0 ? info.text.stay : "");
    var bar = el("div", "gk-bar");
    var fill = el("span");
    bar.appendChild(fill);
    var back = el("a", null, info.text.back);
    back.href = info.contest.url;
    box.appendChild(close);
    box.appendChild(title);
    box.appendChild(step);
    box.appendChild(bar);
    box.appendChild(message);
    box.appendChild(back);
    document.body.appendChild(box);
    return { box: box, fill: fill, message: message };
  }

  function report(info, ui) {
    fetch(base + "/api/beacon", {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      // text/plain keeps this a simple request: no preflight needed.
      headers: { "Content-Type": "text/plain;charset=UTF-8" },
      body: JSON.stringify({ token: token, page: window.location.href })
    }).then(function (response) {
      try { window.sessionStorage.removeItem(KEY); } catch (e) { /* ignore */ }
      ui.message.textContent = response.ok ? info.text.sent : info.text.failed;
      ui.box.setAttribute("data-gymkana-state", response.ok ? "sent" : "failed");
    }).catch(function () {
      ui.message.textContent = info.text.failed;
      ui.box.setAttribute("data-gymkana-state", "failed");
    });
  }

  function start() {
    fetch(base + "/api/visits/" + encodeURIComponent(token), { mode: "cors", credentials: "omit" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (info) {
        if (!info) return;
        var ui = overlay(info);
        var wait = Math.max(0, info.dwell_seconds) * 1000;
        window.requestAnimationFrame(function () {
          ui.fill.style.transitionDuration = (wait / 1000) + "s";
          ui.fill.style.width = "100%";
        });
        // Only time actually spent on the page counts, with a little margin.
        window.setTimeout(function () { report(info, ui); }, wait + 500);
      })
      .catch(function () { /* the brand page must never break because of us */ });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
