// Optional: with JavaScript and permission, search around the phone's position.
// A static file (not an inline <script>) so the page runs under script-src 'self'.
// The two status texts come translated from data-* attributes of #location-status.
(function () {
  "use strict";
  var button = document.getElementById("use-location");
  if (!("geolocation" in navigator) || !button) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    var status = document.getElementById("location-status");
    status.textContent = status.dataset.finding;
    navigator.geolocation.getCurrentPosition(function (pos) {
      var form = document.getElementById("center-search");
      form.querySelector("[name=lat]").value = pos.coords.latitude.toFixed(5);
      form.querySelector("[name=lng]").value = pos.coords.longitude.toFixed(5);
      form.querySelector("[name=q]").value = "";
      status.textContent = "";
      form.requestSubmit();
    }, function () {
      status.textContent = status.dataset.unavailable;
    }, {timeout: 10000});
  });
})();
