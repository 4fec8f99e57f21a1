// Copy buttons: copy the field's link and say so where screen readers hear it. Without
// scripts the buttons stay hidden and the field can be selected and copied by hand.
(function () {
  "use strict";
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    if (button.dataset.ready) return;
    button.dataset.ready = "yes";
    button.hidden = false;
    button.addEventListener("click", function () {
      var field = document.getElementById(button.dataset.copy);
      var status = button.closest(".copy").querySelector("[data-copy-status]");
      var said = function () { status.textContent = button.dataset.copied; };
      field.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(said, function () {
          document.execCommand("copy");
          said();
        });
      } else {
        document.execCommand("copy");
        said();
      }
    });
  });
})();
