/* Gymkana snippet: paste it once in the brand's pages, before </body>.
 *
 * On a page reached from a contest step, and on the next pages of that visit (remembered
 * in this site's sessionStorage), it shows the participant their progress and, once they
 * have stayed long enough on the step's page, reports the visit; then it says when the
 * visit counted. Everywhere else it does nothing.
 *
 * No dependency, no cookie, no eval, no inline style: the overlay lives in a shadow root
 * styled by a constructed stylesheet, so a strict Content-Security-Policy on the brand's
 * site only needs Gymkana's origin in script-src and connect-src. */
(function () {
  "use strict";
  var PARAM = "gk";
  var KEY = "gymkana.visit";
  var script = document.currentScript;
  if (!script || !window.fetch || !window.URL || !Element.prototype.attachShadow) return;
  var base = new URL(script.src).origin;
  var visit;

  function save() {
    try { sessionStorage.setItem(KEY, JSON.stringify(visit)); } catch (e) { /* private mode */ }
  }

  function forget() {
    try { sessionStorage.removeItem(KEY); } catch (e) { /* private mode */ }
  }

  var here = new URL(location.href);
  var token = here.searchParams.get(PARAM);
  if (token) {
    // Keep the token out of the address bar, bookmarks and shared links.
    here.searchParams.delete(PARAM);
    history.replaceState(history.state, "", here.toString());
    visit = { t: token, spent: 0 };
    save();
  } else {
    try { visit = JSON.parse(sessionStorage.getItem(KEY)); } catch (e) { visit = null; }
    if (!visit || typeof visit.t !== "string") return;
    // The visit ended on an earlier page, which said how, or its token has expired.
    if (visit.end || Date.now() > visit.until) return forget();
    token = visit.t;
  }
  var visitPath = "visits/" + encodeURIComponent(token);

  function get(path) {
    return fetch(base + "/api/" + path, { mode: "cors", credentials: "omit" })
      .then(function (response) {
        if (!response.ok) throw response;
        return response.json();
      });
  }

  var CSS =
    ":host{all:initial;display:block;position:fixed;right:16px;bottom:16px;" +
    "z-index:2147483647;width:320px;max-width:calc(100vw - 32px)}" +
    ".box{position:relative;background:#fff;color:#1d1d1f;border-top:4px solid #c2410c;" +
    "border-radius:12px;box-shadow:0 6px 24px rgba(0,0,0,.25);padding:12px 44px 12px 16px;" +
    "font:15px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;text-align:left}" +
    "strong{display:block;font-size:16px}p{margin:4px 0}" +
    "a{color:#9a3412;font-weight:600;margin-right:12px}" +
    ".bar{height:8px;background:#e5e5e5;border-radius:4px;margin:8px 0;overflow:hidden}" +
    ".fill{height:100%;width:0;background:#c2410c;transition:width .25s linear}" +
    "button{position:absolute;top:4px;right:4px;width:36px;height:36px;border:0;" +
    "border-radius:6px;background:none;color:#1d1d1f;font:22px/1 sans-serif;cursor:pointer}" +
    "a:focus-visible,button:focus-visible{outline:3px solid #1d4ed8;outline-offset:2px}" +
    "[hidden]{display:none}" +
    // On a phone it takes its own place at the top of the page instead of covering it.
    "@media (max-width:600px){:host{position:relative;right:auto;bottom:auto;width:auto;" +
    "max-width:none}.box{border-radius:0;box-shadow:none;border-bottom:1px solid #d4d4d4}}" +
    "@media (prefers-reduced-motion:reduce){.fill{transition:none}}";

  function el(parent, tag, text) {
    var node = document.createElement(tag);
    if (text) node.textContent = text;
    parent.appendChild(node);
    return node;
  }

  function link(parent, text, href) {
    var node = el(parent, "a", text);
    if (/^https?:\/\//.test(href)) node.href = href;
    return node;
  }

  function overlay(info) {
    var host = document.createElement("gymkana-progress");
    var root = host.attachShadow({ mode: "open" });
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch (e) {
      // Without constructed stylesheets (older browsers); a strict CSP leaves it plain.
      el(root, "style", CSS);
    }
    var box = el(root, "section");
    box.className = "box";
    box.lang = info.lang;
    box.setAttribute("aria-label", info.text.region);
    box.setAttribute("data-gymkana", "overlay");
    el(box, "strong", info.text.found);
    el(box, "p", info.step.title);
    var progress = el(box, "p", info.progress);
    var bar = el(box, "div");
    bar.className = "bar";
    bar.hidden = true;
    bar.setAttribute("role", "progressbar");
    bar.setAttribute("aria-label", info.text.time);
    bar.setAttribute("aria-valuemin", "0");
    bar.setAttribute("aria-valuemax", "100");
    var fill = el(bar, "div");
    fill.className = "fill";
    var message = el(box, "p");
    message.setAttribute("role", "status");
    message.setAttribute("aria-live", "polite");
    var links = el(box, "p");
    var go = link(links, info.text.go, info.page_url);
    go.hidden = true;
    link(links, info.text.back, info.contest.url);
    var close = el(box, "button", "\u00d7");
    close.type = "button";
    close.setAttribute("aria-label", info.text.close);
    function dismiss() {
      host.remove();
      visit.hide = 1;
      save();
    }
    close.addEventListener("click", dismiss);
    root.addEventListener("keydown", function (event) {
      if (event.key === "Escape") dismiss();
    });
    if (!visit.hide) document.body.insertBefore(host, document.body.firstChild);
    return {
      bar: bar,
      fill: fill,
      go: go,
      progress: progress,
      // The live region is in the page before its first words, so they are announced.
      say: function (state, text) {
        box.setAttribute("data-gymkana-state", state);
        setTimeout(function () { message.textContent = text; }, 100);
      }
    };
  }

  function settle(status, ui) {
    if (status.progress) ui.progress.textContent = status.progress;
    ui.say(status.state === "pending" ? "sent" : status.state, status.message);
    if (status.state === "counted" || status.state === "rejected") {
      visit.end = 1;
      save();
      return true;
    }
    return false;
  }

  function poll(ui) {
    var delay = 1000;
    var tries = 0;
    (function next() {
      if (++tries > 40) return;
      setTimeout(function () {
        get(visitPath + "/status").then(function (status) {
          if (!settle(status, ui)) next();
        }, next);
      }, delay);
      delay = Math.min(delay * 1.5, 10000);
    })();
  }

  function report(info, ui, tries) {
    tries = tries || 0;
    fetch(base + "/api/beacon", {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      keepalive: true,
      // text/plain keeps this a simple request: no preflight needed.
      headers: { "Content-Type": "text/plain;charset=UTF-8" },
      body: JSON.stringify({ token: token, page: location.href })
    }).then(function (response) {
      // 503: nothing was stored for a moment; the same report is sent again.
      if (response.status === 503 && tries < 4) {
        setTimeout(function () { report(info, ui, tries + 1); }, 2000 << tries);
        return;
      }
      // 409: another tab of this visit reported it first; it is as good.
      if (!response.ok && response.status !== 409) throw response;
      visit.sent = 1;
      save();
      ui.say("sent", info.text.sent);
      poll(ui);
    }).catch(function () {
      ui.say("failed", info.text.failed);
    });
  }

  // The time bar shows the time really spent on the step's page(s) of this visit,
  // counted across reloads; the visit is reported once it is enough.
  function wait(info, ui) {
    var need = info.dwell_seconds * 1000;
    var last = Date.now();
    var reduced = window.matchMedia && matchMedia("(prefers-reduced-motion: reduce)").matches;
    if (need > 0) {
      ui.bar.hidden = false;
      ui.say("waiting", info.text.stay);
    }
    var timer = setInterval(tick, reduced ? 1000 : 250);
    function tick() {
      var now = Date.now();
      visit.spent = (visit.spent || 0) + Math.max(0, now - last);
      last = now;
      save();
      var part = need ? Math.min(1, visit.spent / need) : 1;
      ui.fill.style.width = part * 100 + "%";
      ui.bar.setAttribute("aria-valuenow", String(Math.floor(part * 100)));
      // A little margin over the dwell time, for the clocks on both sides.
      if (visit.spent >= need + 500) {
        clearInterval(timer);
        report(info, ui);
      }
    }
    tick();
  }

  function start() {
    get(visitPath + "?page=" + encodeURIComponent(location.href)).then(function (info) {
      visit.until = Date.now() + info.expires_in * 1000;
      save();
      var ui = overlay(info);
      if (info.state !== "open" || visit.sent || info.proof === "click") {
        if (!settle(info, ui)) poll(ui);
      } else if (!info.here) {
        ui.go.hidden = false;
        ui.say("elsewhere", info.text.elsewhere);
      } else {
        wait(info, ui);
      }
    }, function () {
      // A token never taken (changed, expired) is forgotten. The answer cannot tell:
      // only the brand's pages may read it, and a refused token names no brand.
      if (!visit.until) forget();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
