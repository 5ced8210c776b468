// The board runs on a TV for days. htmx swaps only the board body (no history, no
// snapshots), so memory stays flat; as a belt-and-braces measure the page also
// reloads itself once every 6 hours, but only when the server answers.
(function () {
  "use strict";
  var SIX_HOURS = 6 * 60 * 60 * 1000;
  setTimeout(function reload() {
    fetch(window.location.href, { method: "HEAD", cache: "no-store" })
      .then(function (r) { if (r.ok) { window.location.reload(); } else { setTimeout(reload, 60000); } })
      .catch(function () { setTimeout(reload, 60000); });
  }, SIX_HOURS);
})();
