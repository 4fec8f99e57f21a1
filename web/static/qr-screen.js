// Keeps rotating QR codes current on a screen without reloading the page. Each
// [data-qr-live] figure asks its address for the code of the moment when its code is due
// to change (the server says when), and swaps the image and the link in place. Pages
// that use it also refresh themselves without script, in a <noscript> meta refresh.
(function () {
  "use strict";
  var RETRY_SECONDS = 5;
  var FAILURES_BEFORE_RELOAD = 3;

  function follow(figure) {
    var source = figure.getAttribute("data-qr-live");
    var image = figure.querySelector("img");
    var link = figure.querySelector("[data-qr-link]");
    var failures = 0;

    function schedule(seconds) {
      // A moment after the change, so the server is surely in the new period.
      window.setTimeout(refresh, Math.max(1, seconds) * 1000 + 250);
    }

    function show(data) {
      failures = 0;
      image.src = data.image;
      if (link) {
        link.href = data.url;
        link.textContent = data.url;
      }
      schedule(data.changes_in);
    }

    function refresh() {
      fetch(source, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("HTTP " + response.status);
          }
          return response.json();
        })
        .then(show)
        .catch(function () {
          failures += 1;
          // A page reload shows the sign-in page if the session ended, or the code.
          if (failures >= FAILURES_BEFORE_RELOAD) {
            window.location.reload();
          } else {
            schedule(RETRY_SECONDS);
          }
        });
    }

    schedule(Number(figure.getAttribute("data-changes-in")) || RETRY_SECONDS);
  }

  document.querySelectorAll("[data-qr-live]").forEach(follow);

  var button = document.querySelector("[data-fullscreen]");
  var screen = document.querySelector(".qr-screen");
  if (button && screen && screen.requestFullscreen) {
    button.hidden = false;
    button.addEventListener("click", function () {
      screen.requestFullscreen();
    });
  }
})();
