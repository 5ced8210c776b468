/* "Use my location" on /centers/ and /book/: asks the browser for its position and submits the
   search form with near=LAT,LNG. Optional: without JavaScript (or permission) the button stays
   hidden and the text box does the job. No inline script, so a strict CSP can forbid them. */
(function () {
  "use strict";
  function init() {
    var form = document.getElementById("center-search");
    var button = document.getElementById("use-location");
    if (!form || !button || !("geolocation" in navigator)) return;
    var status = document.getElementById("location-status");
    var near = form.querySelector("input[name=near]");
    button.hidden = false;
    button.addEventListener("click", function () {
      status.textContent = button.getAttribute("data-finding");
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(function (pos) {
        near.value = pos.coords.latitude.toFixed(5) + "," + pos.coords.longitude.toFixed(5);
        var q = form.querySelector("input[name=q]");
        if (q) q.value = "";
        status.textContent = "";
        form.submit();
      }, function () {
        button.disabled = false;
        status.textContent = button.getAttribute("data-denied");
      }, {timeout: 10000, maximumAge: 300000});
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
