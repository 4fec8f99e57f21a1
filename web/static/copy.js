/* Copy buttons: <button data-copy="ID" data-copied="…" data-select="…" hidden> copies
 * the text of the element with that id and says so in the status element named by
 * data-status. Without a clipboard (an http page), the text is selected instead. */
(function () {
  "use strict";
  var buttons = document.querySelectorAll("button[data-copy]");
  Array.prototype.forEach.call(buttons, function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById(button.getAttribute("data-status"));
    if (!source || !status) return;
    button.hidden = false;
    function select() {
      var range = document.createRange();
      range.selectNodeContents(source);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      status.textContent = button.getAttribute("data-select");
    }
    button.addEventListener("click", function () {
      if (!navigator.clipboard || !window.isSecureContext) { select(); return; }
      navigator.clipboard.writeText(source.textContent).then(function () {
        status.textContent = button.getAttribute("data-copied");
      }, select);
    });
  });
})();
